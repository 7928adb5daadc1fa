using System.Text;

namespace PolicyEngine.Tests.Documents.Parsing;

/// <summary>
/// How problems are reported: hints for typos, where a missing key is reported, every problem at once,
/// exception and TryParse agreeing, and RFC 6901 escaping of keys in pointers.
/// </summary>
public class ValidationRuleTests
{
    private static string V2(string tools) => "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{" + tools + "}}";

    private static IReadOnlyList<PolicyError> Errors(string json)
    {
        Assert.False(PolicyDocument.TryParse(json, out _, out var errors), "the document was accepted");
        return errors;
    }

    private static string Show(IEnumerable<PolicyError> errors) => string.Join(Environment.NewLine, errors);

    [Theory]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"x\":{\"require\":[{\"path\":\"args.a\",\"opp\":\"eq\",\"value\":1}]}}}", "/tools/x/require/0/opp", "op")]
    [InlineData("{\"version\":\"1\",\"defualt\":\"deny\"}", "/defualt", "default")]
    [InlineData("{\"versoin\":\"2\",\"default\":\"deny\"}", "/versoin", "version")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tool\":{}}", "/tool", "tools")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"x\":{\"deny-if\":[]}}}", "/tools/x/deny-if", "deny_if")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"x\":{\"limits\":[{\"counter\":\"c\",\"windw\":\"minute\",\"max\":1}]}}}", "/tools/x/limits/0/windw", "window")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"x\":{\"approval\":{\"reson\":\"r\"}}}}", "/tools/x/approval/reson", "reason")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"all_tools\":{\"limit\":[]}}", "/all_tools/limit", "limits")]
    public void Parse_UnknownKeyCloseToKnownOne_SuggestsIt(string json, string pointer, string suggestion)
    {
        var errors = Errors(json);

        var error = Assert.Single(errors, e => e.Pointer == pointer);
        Assert.Contains($"did you mean \"{suggestion}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(pointer[(pointer.LastIndexOf('/') + 1)..], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKeyFarFromAnyKnownOne_ListsExpectedKeysWithoutGuessing()
    {
        var error = Assert.Single(Errors("{\"version\":\"2\",\"default\":\"deny\",\"zzzzzzzz\":1}"));

        Assert.Equal("/zzzzzzzz", error.Pointer);
        Assert.DoesNotContain("did you mean", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"tools\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"x\":{\"action\":\"deny\"}}}", "/tools/x/action")]
    [InlineData("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"x\":{\"require\":[{\"path\":\"args.a\",\"op\":\"starts_with\",\"value\":\"a\"}]}}}", "/tools/x/require/0/op")]
    [InlineData("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"x\":{\"require\":[{\"not\":{\"path\":\"args.a\",\"op\":\"exists\"}}]}}}", "/tools/x/require/0/not")]
    [InlineData("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"x\":{\"limits\":[{\"counter\":\"c\",\"window\":\"5m\",\"max\":1}]}}}", "/tools/x/limits/0/window")]
    [InlineData("{\"version\":\"1\",\"default\":\"deny\",\"tools\":{\"fs_*\":{}}}", "/tools/fs_*")]
    public void Parse_VersionTwoFeatureInVersionOne_HintsAtVersionTwo(string json, string pointer)
    {
        var errors = Errors(json);

        Assert.True(errors.Any(e => e.Pointer == pointer && e.Message.Contains("version \"2\"", StringComparison.Ordinal)), Show(errors));
    }

    [Theory]
    [InlineData("{\"version\":\"2\"}", "", "default")]
    [InlineData("{\"default\":\"deny\"}", "", "version")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"limits\":[{\"counter\":\"c\",\"window\":\"minute\"}]}}}", "/tools/t/limits/0", "max")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"limits\":[{\"max\":1,\"window\":\"minute\"}]}}}", "/tools/t/limits/0", "counter")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"require\":[{\"op\":\"eq\",\"value\":1}]}}}", "/tools/t/require/0", "path")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"deny_if\":[{\"path\":\"args.a\",\"value\":1}]}}}", "/tools/t/deny_if/0", "op")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"deny_if\":[{\"path\":\"args.a\",\"op\":\"gt\"}]}}}", "/tools/t/deny_if/0", "value")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"approval\":{\"ttl\":\"5m\"}}}}", "/tools/t/approval", "reason")]
    [InlineData("{\"version\":\"2\",\"default\":\"deny\",\"all_tools\":{\"approval\":{}}}", "/all_tools/approval", "reason")]
    public void Parse_MissingKey_PointsAtObjectAndNamesKey(string json, string pointer, string key)
    {
        var errors = Errors(json);

        Assert.True(errors.Any(e => e.Pointer == pointer && e.Message.Contains($"\"{key}\"", StringComparison.Ordinal)), Show(errors));
        Assert.DoesNotContain(errors, e => e.Pointer == pointer + "/" + key);
    }

    [Fact]
    public void Parse_FiveIndependentProblems_ReportsAllAtOnce()
    {
        const string Json = """
            {
              "version": "2",
              "default": "deny",
              "opp": 1,
              "hide": [5],
              "all_tools": { "deny_if": {} },
              "tools": {
                "a": { "require": [ { "path": "args.a", "op": "bogus", "value": 1 } ] },
                "b": { "limits": [ { "counter": "c", "window": "minute", "max": 0 } ] },
                "c": { "approval": { "ttl": "15m" } },
                "d": { "args_schema": "not a schema" }
              }
            }
            """;
        string[] expected = ["/opp", "/hide/0", "/all_tools/deny_if", "/tools/a/require/0/op", "/tools/b/limits/0/max", "/tools/c/approval", "/tools/d/args_schema"];

        var errors = Errors(Json);

        Assert.All(expected, pointer => Assert.True(errors.Any(e => e.Pointer == pointer), $"no error at {pointer}:{Environment.NewLine}{Show(errors)}"));
        Assert.True(errors.Select(e => e.Pointer).Distinct(StringComparer.Ordinal).Count() >= 5, Show(errors));
    }

    public static TheoryData<string> InvalidDocuments() => new(
        "",
        "[]",
        "{\"version\":\"3\",\"default\":\"deny\"}",
        "{\"version\":\"2\",\"default\":\"deny\",\"opp\":1,\"hide\":\"x\"}",
        V2("\"a\":{\"require\":[{\"path\":\"x\",\"op\":\"eq\",\"value\":1}]},\"b\":5"),
        V2("\"a*\":{},\"a?\":{}"),
        V2("\"t\":{\"limits\":[{\"counter\":\"c\",\"window\":\"minute\",\"max\":1},{\"counter\":\"c\",\"window\":\"hour\",\"max\":1}]}"));

    [Theory]
    [MemberData(nameof(InvalidDocuments))]
    public void Parse_InvalidDocument_ExceptionErrorsEqualTryParseErrors(string json)
    {
        PolicyDocument.TryParse(json, out _, out var fromString);
        PolicyDocument.TryParse(Encoding.UTF8.GetBytes(json), out _, out var fromBytes);

        var thrown = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(json));
        var thrownFromBytes = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(Encoding.UTF8.GetBytes(json)));

        Assert.NotEmpty(fromString);
        Assert.Equal(fromString, thrown.Errors);
        Assert.Equal(fromBytes, thrownFromBytes.Errors);
        Assert.Equal(fromString, fromBytes);
        Assert.Contains(fromString[0].Pointer.Length == 0 ? "(root)" : fromString[0].Pointer, thrown.Message, StringComparison.Ordinal);
        Assert.Contains(fromString[0].Message, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_ValidDocument_ReturnsNoErrors()
    {
        Assert.True(PolicyDocument.TryParse(V2("\"a\":{}"), out var document, out var errors));
        Assert.Empty(errors);
        Assert.NotNull(document);
    }

    [Theory]
    [InlineData("\"a/b\":5", "/tools/a~1b")]
    [InlineData("\"c~d\":5", "/tools/c~0d")]
    [InlineData("\"~1\":5", "/tools/~01")]
    [InlineData("\"/~/\":5", "/tools/~1~0~1")]
    [InlineData("\"a/b\":{\"require\":[{\"path\":\"args.x\",\"op\":\"nope\",\"value\":1}]}", "/tools/a~1b/require/0/op")]
    [InlineData("\"c~d\":{\"approval\":{\"reason\":\"r\",\"x/y\":1}}", "/tools/c~0d/approval/x~1y")]
    [InlineData("\"a/*\":{},\"a/?\":{}", "/tools/a~1?")]
    [InlineData("\"\":{}", "/tools/")]
    public void Parse_ToolNameWithSlashOrTilde_PointerIsEscaped(string tools, string pointer)
    {
        var errors = Errors(V2(tools));

        Assert.True(errors.Any(e => e.Pointer == pointer), $"no error at {pointer}:{Environment.NewLine}{Show(errors)}");
    }

    [Fact]
    public void Parse_UnknownRootKeyWithSlashAndTilde_PointerIsEscaped()
    {
        var error = Assert.Single(Errors("{\"version\":\"2\",\"default\":\"deny\",\"x/y~z\":1}"));

        Assert.Equal("/x~1y~0z", error.Pointer);
    }
}
