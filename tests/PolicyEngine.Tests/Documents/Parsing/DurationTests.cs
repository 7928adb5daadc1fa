using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Documents.Parsing;

namespace PolicyEngine.Tests.Documents.Parsing;

public class DurationTests
{
    [Theory]
    [InlineData("1s", 1L)]
    [InlineData("30s", 30L)]
    [InlineData("5m", 300L)]
    [InlineData("2h", 7_200L)]
    [InlineData("1d", 86_400L)]
    [InlineData("15m", 900L)]
    [InlineData("3650d", 315_360_000L)]
    [InlineData("87600h", 315_360_000L)]
    [InlineData("315360000s", 315_360_000L)]
    [InlineData("10s", 10L)]
    public void TryParse_ValidDuration_ReturnsSeconds(string text, long seconds)
    {
        Assert.True(Duration.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("0s")]
    [InlineData("00s")]
    [InlineData("01s")]
    [InlineData("-1s")]
    [InlineData("+1s")]
    [InlineData(" 1s")]
    [InlineData("1s ")]
    [InlineData("1 s")]
    [InlineData("1ms")]
    [InlineData("1S")]
    [InlineData("1M")]
    [InlineData("1H")]
    [InlineData("1D")]
    [InlineData("1w")]
    [InlineData("1y")]
    [InlineData("1")]
    [InlineData("1.5h")]
    [InlineData("1h30m")]
    [InlineData("3651d")]
    [InlineData("315360001s")]
    [InlineData("99999999999999999999999999d")]
    [InlineData("１s")]
    [InlineData("\u0661s")]
    [InlineData("1s\0")]
    [InlineData("minute")]
    public void TryParse_InvalidDuration_ReturnsFalse(string? text)
    {
        Assert.False(Duration.TryParse(text, out TimeSpan value));
        Assert.Equal(TimeSpan.Zero, value);
    }

    [Theory]
    [InlineData("minute", 60L, true)]
    [InlineData("hour", 3_600L, true)]
    [InlineData("day", 86_400L, true)]
    [InlineData("30s", 30L, false)]
    [InlineData("1m", 60L, false)]
    [InlineData("1d", 86_400L, false)]
    public void TryParseWindow_ValidWindow_ReturnsLengthAndAlignment(string text, long seconds, bool calendar)
    {
        Assert.True(Duration.TryParseWindow(text, out TimeSpan length, out bool isCalendar));
        Assert.Equal(TimeSpan.FromSeconds(seconds), length);
        Assert.Equal(calendar, isCalendar);
    }

    [Theory]
    [InlineData("Minute")]
    [InlineData("minutes")]
    [InlineData("week")]
    [InlineData("0m")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParseWindow_InvalidWindow_ReturnsFalse(string? text)
    {
        Assert.False(Duration.TryParseWindow(text, out _, out _));
    }

    [Property(MaxTest = 300)]
    public Property TryParse_AnyCountAndUnit_MatchesArithmetic()
    {
        return Prop.ForAll(Gen.Choose(1, 400_000_000).ToArbitrary(), Gen.Elements(('s', 1L), ('m', 60L), ('h', 3600L), ('d', 86400L)).ToArbitrary(), (count, unit) =>
        {
            long seconds = count * unit.Item2;
            bool ok = Duration.TryParse(count.ToString(System.Globalization.CultureInfo.InvariantCulture) + unit.Item1, out TimeSpan value);
            return seconds <= 315_360_000L ? ok && value == TimeSpan.FromSeconds(seconds) : !ok;
        });
    }
}
