using System.Globalization;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Json.Numbers;

namespace PolicyEngine.Tests.Json.Numbers;

public class ExactNumberTests
{
    private static int Cmp(string a, string b) => Math.Sign(ExactNumber.Compare(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b)));

    [Theory]
    [InlineData("100", "100.0")]
    [InlineData("100", "1e2")]
    [InlineData("100", "1E+2")]
    [InlineData("100", "10000e-2")]
    [InlineData("100", "0.001e5")]
    [InlineData("-0", "0")]
    [InlineData("-0.0e-7", "0E+99")]
    [InlineData("0", "0e99999999999999999999999999")]
    [InlineData("1.5", "15e-1")]
    [InlineData("-2.50", "-0.25e1")]
    [InlineData("1e99999999999999999999", "10e99999999999999999998")]
    [InlineData("1e-99999999999999999999", "0.1e-99999999999999999998")]
    [InlineData("123e00000000000000000000000000005", "12300000")]
    public void Compare_EqualValuesWrittenDifferently_ReturnsZero(string a, string b)
    {
        Assert.Equal(0, Cmp(a, b));
        Assert.Equal(0, Cmp(b, a));
    }

    [Theory]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("0.1000000000000000000000000000001", "0.1")]
    [InlineData("1e400", "1e399")]
    [InlineData("1e999999999", "1e400")]
    [InlineData("1", "-1")]
    [InlineData("0", "-1e-999999999")]
    [InlineData("1e-999999999", "0")]
    [InlineData("-1", "-2")]
    [InlineData("-0.1", "-0.1000000000000000000000000000001")]
    [InlineData("9223372036854775808", "9223372036854775807")]
    [InlineData("1e2147483648", "1e2147483647")]
    [InlineData("1e9223372036854775808", "1e9223372036854775807")]
    [InlineData("1e100000000000000000001", "1e100000000000000000000")]
    [InlineData("1e100000000000000000000", "9.99e99999999999999999999")]
    [InlineData("1e1000000000000000000", "9e999999999999999999")]
    [InlineData("1e-100000000000000000000", "1e-100000000000000000001")]
    [InlineData("10e999999999999999999", "9e999999999999999999")]
    [InlineData("1e1000000000000000000", "1e-1000000000000000000")]
    [InlineData("2", "1.99999999999999999999999999999999999999999")]
    public void Compare_FirstGreater_ReturnsPositive(string greater, string smaller)
    {
        Assert.Equal(1, Cmp(greater, smaller));
        Assert.Equal(-1, Cmp(smaller, greater));
    }

    [Fact]
    public void Compare_TenThousandDigitNumbers_ComparesExactly()
    {
        string big = "1" + new string('0', 10_000);
        string bigPlusOne = "1" + new string('0', 9_999) + "1";
        Assert.Equal(1, Cmp(bigPlusOne, big));
        Assert.Equal(0, Cmp(big, "1e10000"));
        Assert.Equal(1, Cmp(big, "9.999e9999"));
    }

    [Fact]
    public void Compare_HugeExponentOffsetByLongMantissa_ComparesExactly()
    {
        // 0.000...1e(10^20 + 5) with 5 zeros after the point is exactly 1e100000000000000000000.
        Assert.Equal(0, Cmp("0.000001e100000000000000000006", "1e100000000000000000000"));
        Assert.Equal(1, Cmp("0.00001e100000000000000000006", "1e100000000000000000000"));
        Assert.Equal(0, Cmp("1000000e99999999999999999994", "1e100000000000000000000"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("01")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1e")]
    [InlineData("1e+")]
    [InlineData("+1")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1 ")]
    [InlineData("0x10")]
    [InlineData("1\0")]
    public void Compare_InvalidText_SortsAfterValidWithoutThrowing(string invalid)
    {
        Assert.Equal(1, Cmp(invalid, "1e999999999"));
        Assert.Equal(-1, Cmp("1e999999999", invalid));
        Assert.Equal(0, Cmp(invalid, "garbage"));
        Assert.False(ExactNumber.ValueEquals(Encoding.UTF8.GetBytes(invalid), Encoding.UTF8.GetBytes(invalid)));
    }

    [Theory]
    [InlineData("5", 5L)]
    [InlineData("5.0", 5L)]
    [InlineData("5e0", 5L)]
    [InlineData("500e-2", 5L)]
    [InlineData("0.5e1", 5L)]
    [InlineData("-0", 0L)]
    [InlineData("0.0e-999999999999999999999", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("9.223372036854775807e18", long.MaxValue)]
    public void IsNonNegativeInteger_ExactNonNegativeInteger_ReturnsValue(string json, long expected)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.True(ExactNumber.IsNonNegativeInteger(doc.RootElement, out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("5.5")]
    [InlineData("-1")]
    [InlineData("-1e0")]
    [InlineData("1e30")]
    [InlineData("9223372036854775808")]
    [InlineData("1e999999999")]
    [InlineData("1e-999999999")]
    [InlineData("1e99999999999999999999")]
    [InlineData("0.1")]
    [InlineData("\"5\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[5]")]
    public void IsNonNegativeInteger_NotAnExactFittingNonNegativeInteger_ReturnsFalse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.False(ExactNumber.IsNonNegativeInteger(doc.RootElement, out long value));
        Assert.Equal(0, value);
    }

    [Theory]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-9.223372036854775808e18", long.MinValue)]
    [InlineData("12345678901200000e-5", 123456789012L)]
    public void TryGetExactInt64_Fits_ReturnsValue(string text, long expected)
    {
        Assert.True(ExactNumber.TryGetExactInt64(Encoding.UTF8.GetBytes(text), out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("-9223372036854775809")]
    [InlineData("12345678901234567e-6")]
    public void TryGetExactInt64_DoesNotFit_ReturnsFalse(string text)
    {
        Assert.False(ExactNumber.TryGetExactInt64(Encoding.UTF8.GetBytes(text), out _));
    }

    [Theory]
    [InlineData("100", "1e2", 0)]
    [InlineData("100", "100.0", 0)]
    [InlineData("100", "99", -1)]
    [InlineData("100", "101", 1)]
    [InlineData("100", "100.5", 1)]
    [InlineData("100", "1e999999999", 1)]
    [InlineData("100", "-1e999999999", -1)]
    [InlineData("0.5", "0", -1)]
    [InlineData("0.5", "1", 1)]
    [InlineData("0.5", "5e-1", 0)]
    [InlineData("1e30", "1000000000000000000000000000000", 0)]
    [InlineData("1e30", "9223372036854775807", -1)]
    [InlineData("9007199254740992", "9007199254740993", 1)]
    public void TryCompareTo_NumberArgument_ComparesExactly(string operand, string argument, int expectedSignOfArgumentMinusOperand)
    {
        using JsonDocument op = JsonDocument.Parse(operand);
        using JsonDocument arg = JsonDocument.Parse(argument);
        Assert.True(NumberOperand.TryCreate(op.RootElement, out NumberOperand? operandValue));
        Assert.True(operandValue.TryCompareTo(arg.RootElement, out int result));
        Assert.Equal(expectedSignOfArgumentMinusOperand, Math.Sign(result));
        Assert.Equal(expectedSignOfArgumentMinusOperand == 0, operandValue.ValueEquals(arg.RootElement));
    }

    [Theory]
    [InlineData("\"5\"")]
    [InlineData("null")]
    [InlineData("[5]")]
    [InlineData("{}")]
    [InlineData("false")]
    public void TryCompareTo_NonNumberArgument_ReturnsFalse(string argument)
    {
        using JsonDocument op = JsonDocument.Parse("5");
        using JsonDocument arg = JsonDocument.Parse(argument);
        Assert.True(NumberOperand.TryCreate(op.RootElement, out NumberOperand? operandValue));
        Assert.False(operandValue.TryCompareTo(arg.RootElement, out _));
        Assert.False(operandValue.ValueEquals(arg.RootElement));
    }

    [Fact]
    public void TryCreate_NonNumber_ReturnsFalse()
    {
        using JsonDocument doc = JsonDocument.Parse("\"5\"");
        Assert.False(NumberOperand.TryCreate(doc.RootElement, out _));
        Assert.False(NumberOperand.TryCreate("5x"u8, out _));
    }

    private static string DecimalText(decimal d, int style) => style switch
    {
        0 => d.ToString(CultureInfo.InvariantCulture),
        1 => d.ToString("E28", CultureInfo.InvariantCulture),
        _ => d.ToString("0.0000000000000000000000000000", CultureInfo.InvariantCulture),
    };

    [Property(MaxTest = 300)]
    public bool Compare_DecimalValues_AgreesWithDecimalComparison(decimal a, decimal b, byte styleA, byte styleB)
    {
        int expected = Math.Sign(a.CompareTo(b));
        return Cmp(DecimalText(a, styleA % 3), DecimalText(b, styleB % 3)) == expected;
    }

    [Property(MaxTest = 300)]
    public bool Compare_Int64Values_AgreesWithInt64Comparison(long a, long b)
    {
        return Cmp(a.ToString(CultureInfo.InvariantCulture), b.ToString(CultureInfo.InvariantCulture)) == Math.Sign(a.CompareTo(b));
    }

    private static Arbitrary<string> NumberTexts()
    {
        Gen<string> digits = Gen.Elements('0', '1', '5', '9').ArrayOf().Select(c => new string(c));
        Gen<string> mantissa =
            from sign in Gen.Elements("", "-")
            from intPart in Gen.OneOf(Gen.Constant("0"), Gen.Elements("1", "7", "9").Zip(digits, (a, b) => a + b))
            from frac in Gen.OneOf(Gen.Constant(""), Gen.Elements("1", "5", "0").Zip(digits, (a, b) => "." + a + b))
            select sign + intPart + frac;
        Gen<string> exponent = Gen.OneOf(
            Gen.Constant(""),
            Gen.Choose(-30, 30).Select(e => "e" + e.ToString(CultureInfo.InvariantCulture)),
            Gen.Elements("e99999999999999999999", "E-99999999999999999999", "e+100000000000000000001", "e0000000000000000000000000003"));
        return mantissa.Zip(exponent, (m, e) => m + e).ToArbitrary();
    }

    [Property(MaxTest = 500)]
    public Property Compare_AnyNumbers_IsAntisymmetricAndReflexive()
    {
        return Prop.ForAll(NumberTexts(), NumberTexts(), (a, b) =>
            Cmp(a, b) == -Cmp(b, a) && Cmp(a, a) == 0);
    }

    [Property(MaxTest = 300)]
    public Property Compare_AnyNumbers_IsTransitive()
    {
        return Prop.ForAll(NumberTexts(), NumberTexts(), NumberTexts(), (a, b, c) =>
            !(Cmp(a, b) <= 0 && Cmp(b, c) <= 0) || Cmp(a, c) <= 0);
    }

    [Property(MaxTest = 300)]
    public Property Compare_ShiftedMantissaAndExponent_IsEqual()
    {
        // d × 10^e == (d × 10^k) × 10^(e-k): appending zeros to the mantissa and lowering the exponent is the same value.
        return Prop.ForAll(Gen.Choose(1, 999_999).ToArbitrary(), Gen.Choose(0, 40).ToArbitrary(), Gen.Choose(-50, 50).ToArbitrary(), (d, k, e) =>
        {
            string a = d.ToString(CultureInfo.InvariantCulture) + "e" + e.ToString(CultureInfo.InvariantCulture);
            string b = d.ToString(CultureInfo.InvariantCulture) + new string('0', k) + "e" + (e - k).ToString(CultureInfo.InvariantCulture);
            return Cmp(a, b) == 0;
        });
    }
}
