using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Json;

namespace PolicyEngine.Tests.Json;

public class CanonicalJsonTests
{
    private static string Canonical(string json, int maxDepth = 64)
    {
        using JsonDocument doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = maxDepth });
        return Encoding.UTF8.GetString(CanonicalJson.ToCanonicalBytes(doc.RootElement));
    }

    [Theory]
    [InlineData("100", "100")]
    [InlineData("1e2", "100")]
    [InlineData("100.0", "100")]
    [InlineData("1E+2", "100")]
    [InlineData("10000e-2", "100")]
    [InlineData("-0", "0")]
    [InlineData("-0.000e-5", "0")]
    [InlineData("12.50", "12.5")]
    [InlineData("-12.50", "-12.5")]
    [InlineData("123456e-3", "123.456")]
    [InlineData("0.001", "0.001")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("1e-7", "1E-7")]
    [InlineData("1.5e-7", "1.5E-7")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("1e21", "1E+21")]
    [InlineData("-1.25e21", "-1.25E+21")]
    [InlineData("9007199254740993", "9007199254740993")]
    [InlineData("0.1000000000000000000000000000001", "0.1000000000000000000000000000001")]
    [InlineData("1e999999999", "1E+999999999")]
    [InlineData("1e100000000000000000000", "1E+100000000000000000000")]
    [InlineData("0.001e100000000000000000000", "1E+99999999999999999997")]
    [InlineData("1000e100000000000000000000", "1E+100000000000000000003")]
    [InlineData("1000e-100000000000000000000", "1E-99999999999999999997")]
    [InlineData("0.001e-100000000000000000000", "1E-100000000000000000003")]
    [InlineData("0.01e100000000000000000001", "1E+99999999999999999999")]
    [InlineData("10e-1000000000000000000", "1E-999999999999999999")]
    [InlineData("25e0000000000000000000000000001", "250")]
    public void ToCanonicalBytes_Number_WritesNormalisedText(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Theory]
    [InlineData("\"abc\"", "\"abc\"")]
    [InlineData("\"\\u0041\\/\"", "\"A/\"")]
    [InlineData("\"\\u00e9\"", "\"é\"")]
    [InlineData("\"é\"", "\"é\"")]
    [InlineData("\"\\ud83d\\ude00\"", "\"😀\"")]
    [InlineData("\"\\uD800\"", "\"\\ud800\"")]
    [InlineData("\"\\uDC00x\"", "\"\\udc00x\"")]
    [InlineData("\"\\ud800\\ud800\"", "\"\\ud800\\ud800\"")]
    [InlineData("\"a\\u0000b\"", "\"a\\u0000b\"")]
    [InlineData("\"\\u0001\\u001F\\u007f\"", "\"\\u0001\\u001f\u007f\"")]
    [InlineData("\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\"")]
    [InlineData("\"\\u0008\\u000A\"", "\"\\b\\n\"")]
    [InlineData("\"<>&'\\u2028\"", "\"<>&'\u2028\"")]
    public void ToCanonicalBytes_String_ReEscapesDeterministically(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Theory]
    [InlineData("{ \"b\" : 1 , \"a\" : [ 1 , 2 ] , \"A\" : null }", "{\"A\":null,\"a\":[1,2],\"b\":1}")]
    [InlineData("{\"\\u0062\": true, \"a\": false}", "{\"a\":false,\"b\":true}")]
    [InlineData("{\"a\": 2, \"b\": 0, \"a\": 1}", "{\"a\":2,\"a\":1,\"b\":0}")]
    [InlineData("{\"\\uffff\": 1, \"😀\": 2}", "{\"😀\":2,\"\uffff\":1}")]
    [InlineData("{\"ab\": 1, \"a\": 2}", "{\"a\":2,\"ab\":1}")]
    [InlineData("{\"x\": {\"z\": 1e2, \"y\": \"\\u0041\"}}", "{\"x\":{\"y\":\"A\",\"z\":100}}")]
    [InlineData("[]", "[]")]
    [InlineData("{}", "{}")]
    [InlineData("[true, false, null]", "[true,false,null]")]
    public void ToCanonicalBytes_Structures_SortsKeysByUtf16OrdinalWithoutWhitespace(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Fact]
    public void ToCanonicalBytes_NestingBeyondMaxDepth_WritesMinifiedSource()
    {
        int depth = 1000;
        string deep = new string('[', depth) + " { \"b\" : 1, \"a\" : \" x \" } " + new string(']', depth);
        string result = Canonical(deep, maxDepth: depth + 2);
        Assert.Equal(new string('[', depth) + "{\"b\":1,\"a\":\" x \"}" + new string(']', depth), result);
    }

    [Fact]
    public void Write_InsideWriter_WritesCanonicalValue()
    {
        using JsonDocument doc = JsonDocument.Parse("{\"b\": 1e2, \"a\": \"\\ud800\"}");
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("args");
            CanonicalJson.Write(writer, doc.RootElement);
            writer.WritePropertyName("none");
            CanonicalJson.Write(writer, default);
            writer.WriteEndObject();
        }

        Assert.Equal("{\"args\":{\"a\":\"\\ud800\",\"b\":100},\"none\":null}", Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public void Sha256Hex_Object_IsLowercaseHexOfCanonicalBytes()
    {
        using JsonDocument doc = JsonDocument.Parse("{ \"b\": 2, \"a\": 1.0 }");
        string expected = Convert.ToHexStringLower(SHA256.HashData("{\"a\":1,\"b\":2}"u8));
        Assert.Equal(expected, CanonicalJson.Sha256Hex(doc.RootElement));
        Assert.Equal(expected, Convert.ToHexStringLower(CanonicalJson.Sha256(doc.RootElement)));
        Assert.Matches("^[0-9a-f]{64}$", expected);
    }

    [Fact]
    public void Sha256Hex_DifferentValues_Differ()
    {
        using JsonDocument a = JsonDocument.Parse("{\"amount\": 100}");
        using JsonDocument b = JsonDocument.Parse("{\"amount\": 100.0000000000000000001}");
        using JsonDocument c = JsonDocument.Parse("{\"amount\": 1e2}");
        Assert.NotEqual(CanonicalJson.Sha256Hex(a.RootElement), CanonicalJson.Sha256Hex(b.RootElement));
        Assert.Equal(CanonicalJson.Sha256Hex(a.RootElement), CanonicalJson.Sha256Hex(c.RootElement));
    }

    [Fact]
    public void ToCanonicalBytes_TenThousandDigitNumber_WritesAllDigits()
    {
        string digits = "7" + new string('3', 9_999);
        Assert.Equal("7." + new string('3', 9_999) + "E+9999", Canonical(digits + ".000"));
        Assert.Equal("0.0000017" + new string('3', 9_999), Canonical("0.0000017" + new string('3', 9_999)));
        Assert.Equal("7." + new string('3', 9_999) + "E+10020", Canonical(digits + "e21"));
    }

    [Property(MaxTest = 300)]
    public Property ToCanonicalBytes_ParsedFromOwnOutput_IsIdentical()
    {
        return Prop.ForAll(JsonGenerators.Json().ToArbitrary(), json =>
        {
            using JsonDocument first = JsonDocument.Parse(json);
            byte[] canonical = CanonicalJson.ToCanonicalBytes(first.RootElement);
            using JsonDocument second = JsonDocument.Parse(canonical);
            return canonical.AsSpan().SequenceEqual(CanonicalJson.ToCanonicalBytes(second.RootElement))
                && JsonValueComparer.DeepEquals(first.RootElement, second.RootElement);
        });
    }

    [Property(MaxTest = 300)]
    public bool ToCanonicalBytes_Decimal_RoundTripsToSameValue(decimal value)
    {
        using JsonDocument doc = JsonDocument.Parse(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        byte[] canonical = CanonicalJson.ToCanonicalBytes(doc.RootElement);
        return decimal.Parse(Encoding.UTF8.GetString(canonical), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture) == value;
    }
}
