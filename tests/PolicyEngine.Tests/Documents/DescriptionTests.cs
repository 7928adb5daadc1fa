using System.Text.Json;

namespace PolicyEngine.Tests.Documents;

/// <summary>Version 2 documents and tool entries may carry a <c>description</c>: kept, printed, never deciding anything.</summary>
public class DescriptionTests
{
    private const string Described = """
        {
          "version": "2",
          "description": "Guards the build server",
          "default": "deny",
          "tools": {
            "read": { "description": "read-only, so allowed" },
            "exec": { "description": "runs anything: never", "action": "deny", "on_deny": "no" }
          }
        }
        """;

    [Fact]
    public void Parse_Descriptions_AreKeptAndRoundTrip()
    {
        var document = PolicyDocument.Parse(Described);

        Assert.Equal("Guards the build server", document.Description);
        Assert.Equal("read-only, so allowed", document.Tools.Single(t => t.Name == "read").Description);
        Assert.Equal(document, PolicyDocument.Parse(document.ToJson()));
        Assert.Equal("Guards the build server", PolicyDocument.Parse(document.ToJson()).Description);
    }

    [Fact]
    public void Evaluate_Descriptions_NeverChangeADecision()
    {
        var described = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(Described)));
        var plain = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(
            """{"version":"2","default":"deny","tools":{"read":{},"exec":{"action":"deny","on_deny":"no"}}}""")));
        var alice = new PolicyIdentity("alice");

        foreach (var tool in new[] { "read", "exec", "other" })
        {
            var a = described.Evaluate(alice, tool, default(JsonElement));
            var b = plain.Evaluate(alice, tool, default(JsonElement));
            Assert.Equal((b.Kind, b.Rule, b.Reason), (a.Kind, a.Rule, a.Reason));
        }
    }

    [Theory]
    [InlineData("""{"version":"1","description":"x","default":"deny"}""", "/description")]
    [InlineData("""{"version":"1","default":"deny","tools":{"t":{"description":"x"}}}""", "/tools/t/description")]
    [InlineData("""{"version":"2","description":5,"default":"deny"}""", "/description")]
    [InlineData("""{"version":"2","default":"deny","tools":{"t":{"description":["x"]}}}""", "/tools/t/description")]
    [InlineData("""{"version":"2","default":"deny","all_tools":{"description":"x"}}""", "/all_tools/description")]
    public void Parse_MisplacedOrMistypedDescription_IsRejectedAtItsPointer(string json, string pointer)
    {
        var exception = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(json));

        Assert.Contains(exception.Errors, error => error.Pointer == pointer);
    }

    [Fact]
    public void MigrateToLatest_KeepsNothingItDidNotHave_AndVersion2KeepsDescriptions()
    {
        var v1 = PolicyDocument.Parse("""{"version":"1","default":"deny","tools":{"t":{}}}""");

        Assert.Null(v1.MigrateToLatest().Description);
        Assert.Equal("Guards the build server", PolicyDocument.Parse(Described).MigrateToLatest().Description);
    }
}
