using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Json;

namespace PolicyEngine.Tests.Json;

public class JsonValueComparerTests
{
    internal static bool Equal(string a, string b, int maxDepth = 64)
    {
        var options = new JsonDocumentOptions { MaxDepth = maxDepth };
        using JsonDocument da = JsonDocument.Parse(a, options);
        using JsonDocument db = JsonDocument.Parse(b, options);
        return JsonValueComparer.DeepEquals(da.RootElement, db.RootElement);
    }

    [Theory]
    [InlineData("100", "1e2")]
    [InlineData("100", "100.0")]
    [InlineData("-0", "0")]
    [InlineData("9007199254740993", "9007199254740993.0")]
    [InlineData("\"A\"", "\"\\u0041\"")]
    [InlineData("\"a/b\"", "\"a\\/b\"")]
    [InlineData("\"\\ud83d\\ude00\"", "\"😀\"")]
    [InlineData("\"\\ud800\"", "\"\\uD800\"")]
    [InlineData("\"a\\u0000b\"", "\"a\\u0000b\"")]
    [InlineData("\"\"", "\"\"")]
    [InlineData("true", "true")]
    [InlineData("false", "false")]
    [InlineData("null", "null")]
    [InlineData("[]", "[ ]")]
    [InlineData("{}", "{ }")]
    [InlineData("[1, \"a\", [null]]", "[1.0,\"\\u0061\",[null]]")]
    [InlineData("{\"a\": 1, \"b\": [2]}", "{\"b\": [2e0], \"a\": 1}")]
    [InlineData("{\"\\u0061\": 1}", "{\"a\": 1}")]
    [InlineData("{\"a\": 1, \"a\": 2, \"b\": 3}", "{\"b\": 3, \"a\": 1, \"a\": 2}")]
    public void DeepEquals_SameValue_ReturnsTrue(string a, string b)
    {
        Assert.True(Equal(a, b));
        Assert.True(Equal(b, a));
    }

    [Theory]
    [InlineData("5", "\"5\"")]
    [InlineData("9007199254740993", "9007199254740992")]
    [InlineData("0.1000000000000000000000000000001", "0.1")]
    [InlineData("true", "false")]
    [InlineData("null", "false")]
    [InlineData("null", "0")]
    [InlineData("\"\"", "null")]
    [InlineData("\"a\"", "\"A\"")]
    [InlineData("\"a\"", "\"a \"")]
    [InlineData("\"a\\u0000\"", "\"a\"")]
    [InlineData("\"\\ud800\"", "\"\\udc00\"")]
    [InlineData("\"\\ud800\"", "\"\\ufffd\"")]
    [InlineData("[1, 2]", "[2, 1]")]
    [InlineData("[1]", "[1, 1]")]
    [InlineData("[]", "{}")]
    [InlineData("{\"a\": 1}", "{\"a\": 1, \"b\": 1}")]
    [InlineData("{\"a\": 1}", "{\"b\": 1}")]
    [InlineData("{\"a\": 1}", "{\"A\": 1}")]
    [InlineData("{\"a\": {\"b\": 1}}", "{\"a\": {\"b\": \"1\"}}")]
    [InlineData("{\"a\": 1, \"a\": 2}", "{\"a\": 2, \"a\": 1}")]
    [InlineData("{\"a\": 1, \"a\": 1}", "{\"a\": 1}")]
    [InlineData("{\"a\": 1, \"a\": 1, \"b\": 1}", "{\"a\": 1, \"b\": 1, \"b\": 1}")]
    public void DeepEquals_DifferentValue_ReturnsFalse(string a, string b)
    {
        Assert.False(Equal(a, b));
        Assert.False(Equal(b, a));
    }

    [Fact]
    public void DeepEquals_LargeObjectsInDifferentOrder_ReturnsTrue()
    {
        string Build(IEnumerable<int> keys) => "{" + string.Join(",", keys.Select(k => $"\"k{k}\": [{k}, \"v{k}\"]")) + "}";
        string forward = Build(Enumerable.Range(0, 40));
        string backward = Build(Enumerable.Range(0, 40).Reverse());
        string changed = Build(Enumerable.Range(0, 39).Append(41));
        Assert.True(Equal(forward, backward));
        Assert.False(Equal(forward, changed));
    }

    [Fact]
    public void DeepEquals_LargeObjectsWithDuplicates_MatchesDuplicatesInOrder()
    {
        string keys = string.Join(",", Enumerable.Range(0, 20).Select(k => $"\"k{k}\": {k}"));
        Assert.True(Equal("{" + keys + ",\"d\": 1, \"d\": 2}", "{\"d\": 1," + keys + ", \"d\": 2}"));
        Assert.False(Equal("{" + keys + ",\"d\": 1, \"d\": 2}", "{\"d\": 2," + keys + ", \"d\": 1}"));
    }

    [Fact]
    public void DeepEquals_NestingBeyondMaxDepth_ComparesWithoutStackOverflow()
    {
        int depth = 2000;
        string deep = new string('[', depth) + "1" + new string(']', depth);
        string deepSpaced = new string('[', depth) + " 1 " + new string(']', depth);
        string deepOther = new string('[', depth) + "2" + new string(']', depth);
        Assert.True(Equal(deep, deepSpaced, maxDepth: depth + 1));
        Assert.False(Equal(deep, deepOther, maxDepth: depth + 1));
    }

    [Fact]
    public void DeepEquals_DefaultElements_AreEqualOnlyToEachOther()
    {
        using JsonDocument doc = JsonDocument.Parse("null");
        Assert.True(JsonValueComparer.DeepEquals(default, default));
        Assert.False(JsonValueComparer.DeepEquals(default, doc.RootElement));
    }

    [Property(MaxTest = 300)]
    public Property DeepEquals_AnyTwoValues_AgreesWithCanonicalBytes()
    {
        return Prop.ForAll(JsonGenerators.Json().ToArbitrary(), JsonGenerators.Json().ToArbitrary(), (a, b) =>
        {
            using JsonDocument da = JsonDocument.Parse(a);
            using JsonDocument db = JsonDocument.Parse(b);
            bool equal = JsonValueComparer.DeepEquals(da.RootElement, db.RootElement);
            bool sameBytes = CanonicalJson.ToCanonicalBytes(da.RootElement).AsSpan().SequenceEqual(CanonicalJson.ToCanonicalBytes(db.RootElement));
            return equal == sameBytes && equal == JsonValueComparer.DeepEquals(db.RootElement, da.RootElement);
        });
    }

    [Property(MaxTest = 300)]
    public Property DeepEquals_RespelledValue_IsEqualWithSameCanonicalBytes()
    {
        return Prop.ForAll(JsonGenerators.JsonWithRespelling().ToArbitrary(), pair =>
        {
            using JsonDocument da = JsonDocument.Parse(pair.Item1);
            using JsonDocument db = JsonDocument.Parse(pair.Item2);
            return JsonValueComparer.DeepEquals(da.RootElement, db.RootElement)
                && CanonicalJson.ToCanonicalBytes(da.RootElement).AsSpan().SequenceEqual(CanonicalJson.ToCanonicalBytes(db.RootElement));
        });
    }
}
