using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Counters;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// Counter keys are length-prefixed so that no identity or argument value can make two counters meet, and the
/// in-memory store reads them back into (prefix, kind, value): the reading must be exactly the inverse of building.
/// </summary>
public class CounterKeysTests
{
    private static readonly char[] Kinds = ['g', 't', 's', 'j', '*', 'x', '|', ':', '7'];

    private static string PrefixOf(string counter, long window, bool sliding) => $"{counter.Length}:{counter}|{window}{(sliding ? 's' : 'f')}|";

    [Property(MaxTest = 500)]
    public Property Build_ThenTryParse_GivesBackEveryPart(NonNull<string> counter, PositiveInt window, bool sliding, NonNull<string> value) =>
        Prop.ForAll(Gen.Elements(Kinds).ToArbitrary(), kind =>
        {
            var prefix = PrefixOf(counter.Get, window.Get, sliding);
            var key = CounterKeys.Build(prefix, kind, value.Get);
            var parsed = CounterKeys.TryParse(key, out var prefixLength, out var parsedKind, out var valueStart, out var parsedWindow, out var algorithm);
            return (parsed
                    && key[..prefixLength] == prefix
                    && parsedKind == kind
                    && key[valueStart..] == value.Get
                    && parsedWindow == window.Get
                    && algorithm == (sliding ? LimitAlgorithm.Sliding : LimitAlgorithm.Fixed))
                .Label(key);
        });

    /// <summary>Any string that parses is rebuilt exactly from its parts: one key, one reading (a bijection).</summary>
    [Property(MaxTest = 2000)]
    public Property TryParse_AnyString_ThatParsesIsRebuiltExactly() =>
        Prop.ForAll(KeyLikeStrings().ToArbitrary(), text =>
        {
            if (!CounterKeys.TryParse(text, out var prefixLength, out var kind, out var valueStart, out _, out _))
            {
                return true.Label("not a key");
            }

            return (CounterKeys.Build(text[..prefixLength], kind, text.AsSpan(valueStart)) == text).Label(text);
        });

    private static Gen<string> KeyLikeStrings()
    {
        // Strings assembled from the format's own pieces (digits, ':', '|', 'f', 's', kinds) so that many of them parse.
        var piece = Gen.Elements("0", "1", "2", "3", "10", "07", ":", "|", "f", "s", "g", "t", "*", "a", "ab", "\uD800", "60000");
        return Gen.ListOf(piece).Select(pieces => string.Concat(pieces));
    }

    [Theory]
    [InlineData("4:runs|60000f|6:galice", true)]
    [InlineData("4:runs|60000s|1:*", true)]
    [InlineData("04:runs|60000f|6:galice", false)]   // a length with a leading zero: not the canonical spelling
    [InlineData("4:runs|060000f|6:galice", false)]
    [InlineData("4:runs|60000f|06:galice", false)]
    [InlineData("4:runs|60000f|7:galice", false)]    // the value is shorter than its length
    [InlineData("4:runs|60000f|5:galice", false)]    // longer
    [InlineData("4:runs|60000f|0:", false)]          // no kind
    [InlineData("4:runs|60000x|6:galice", false)]    // no such algorithm
    [InlineData("5:runs|60000f|6:galice", false)]
    [InlineData("runs", false)]
    [InlineData("", false)]
    [InlineData("shadow|4:runs|60000f|6:galice", false)]
    [InlineData("99999999999999999999:x", false)]
    public void TryParse_Examples(string key, bool parses) =>
        Assert.Equal(parses, CounterKeys.TryParse(key, out _, out _, out _, out _, out _));

    [Fact]
    public void Prefix_OfAParsedLimit_EncodesCounterWindowAndAlgorithm()
    {
        var policy = Policy.Parse("""
            { "version": "2", "default": "deny", "tools": { "t": { "limits": [
              { "counter": "a|b:c", "window": "hour", "max": 5, "scope": "grant", "algorithm": "sliding" } ] } } }
            """);
        var rule = policy.Document.Tools.Single().Limits![0];
        Assert.Equal("5:a|b:c|3600000s|", CounterKeys.Prefix(rule));
        Assert.Equal("5:a|b:c|3600000s|6:galice", CounterKeys.Build(CounterKeys.Prefix(rule), CounterKeys.Grant, "alice"));
    }
}
