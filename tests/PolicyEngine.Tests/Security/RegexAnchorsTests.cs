using System.Text.Json;
using PolicyEngine.Matching;

namespace PolicyEngine.Tests.Security;

/// <summary><c>$</c> is the end of the input, as in JavaScript and Go: a trailing newline never slips past an anchored pattern.</summary>
public class RegexAnchorsTests
{
    [Theory]
    [InlineData("^[a-z]+$", "^[a-z]+\\z")]
    [InlineData("a$|b$", "a\\z|b\\z")]
    [InlineData("^\\$[0-9]+$", "^\\$[0-9]+\\z")]          // an escaped dollar stays a literal
    [InlineData("^[$]+$", "^[$]+\\z")]                    // a dollar in a class stays a literal
    [InlineData("^[^$\\]]$", "^[^$\\]]\\z")]
    [InlineData("^[]$]$", "^[]$]\\z")]                    // a leading ] is a literal in .NET classes
    [InlineData("^[a-z-[$]]$", "^[a-z-[$]]\\z")]         // class subtraction
    [InlineData("(?i)^abc$", "(?i)^abc\\z")]
    [InlineData("(?m)^abc$", "(?m)^abc$")]               // multiline: $ is an end of line, left alone
    [InlineData("(?im:x$)", "(?im:x$)")]
    [InlineData("(?i-m)x$", "(?i-m)x\\z")]
    [InlineData("no anchors", "no anchors")]
    public void EndOfInput_RewritesOnlyAnchors(string pattern, string expected)
    {
        Assert.Equal(expected, RegexAnchors.EndOfInput(pattern));
    }

    [Theory]
    [InlineData("abc\n")]
    [InlineData("abc\r\n")]
    public void Evaluate_AnchoredRegex_TrailingNewline_IsDenied(string account)
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"t":{"require":[{"path":"args.account","op":"regex","value":"^[a-z]+$"}]}}}""");
        var args = new Dictionary<string, JsonElement> { ["account"] = JsonSerializer.SerializeToElement(account) };

        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(new PolicyIdentity("alice"), "t", args).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("""{"account":"abc"}""")).Kind);
    }

    [Fact]
    public void Evaluate_AnchoredSchemaPattern_TrailingNewline_IsDenied()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"t":{"args_schema":{"type":"object","properties":{"account":{"type":"string","pattern":"^[a-z]{1,12}$"}}}}}}""");

        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("""{"account":"abc\n"}""")).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("""{"account":"abc"}""")).Kind);
    }
}
