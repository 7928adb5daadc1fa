using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>
/// A lone <c>"*"</c> entry is settled at compile time like an exact entry (it costs what plain <c>default</c> costs).
/// These tests hold the shortcut to the general path: the same document with one more glob that matches nothing
/// (which turns the shortcut off) must decide every call identically.
/// </summary>
public class CatchAllTests
{
    private static readonly PolicyIdentity Alice = PolicyIdentity.WithRoles("alice", "dev");
    private static readonly PolicyIdentity Nobody = new("nobody");
    private static readonly JsonElement NoArgs = TestPolicies.Args("{}");

    private static readonly string[] Stars =
    [
        """{ "action": "deny", "on_deny": "only the listed tools are available" }""",
        """{}""",
        """{ "require": [ { "path": "identity.roles", "op": "contains", "value": "dev", "on_deny": "developers only" } ] }""",
        """{ "deny_if": [ { "path": "args.path", "op": "path_under", "value": "/etc" } ] }""",
        """{ "limits": [ { "counter": "any_tool", "window": "minute", "max": 2, "scope": "grant" } ] }""",
        """{ "approval": { "reason": "a person must look at unlisted tools" } }""",
        """{ "args_schema": { "type": "object", "properties": { "n": { "type": "integer" } } } }""",
    ];

    private static string Document(string star, bool withAllTools, bool withDecoy) =>
        "{ \"version\": \"2\", \"default\": \"deny\","
        + (withAllTools ? " \"all_tools\": { \"deny_if\": [ { \"path\": \"args.drop\", \"op\": \"eq\", \"value\": true } ] }," : string.Empty)
        + " \"tools\": { \"read_file\": {}, \"delete_repo\": { \"action\": \"deny\" }, \"*\": " + star
        + (withDecoy ? ", \"never_matches_*_zz\": {}" : string.Empty) + " } }";

    private static readonly string[] Tools = ["read_file", "delete_repo", "search", "", "*", "run_python", "never_matches_"];

    private static readonly string[] Arguments = ["{}", """{"path": "/etc/passwd"}""", """{"n": 1.5}""", """{"drop": true}""", "[1]", "null", "\"text\""];

    public static TheoryData<int, bool> Shapes()
    {
        var data = new TheoryData<int, bool>();
        for (var i = 0; i < Stars.Length; i++)
        {
            data.Add(i, false);
            data.Add(i, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Evaluate_LoneStar_DecidesLikeTheGeneralPath(int star, bool withAllTools)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 10, 0, 20, TimeSpan.Zero));
        var fast = TestPolicies.Evaluator(Document(Stars[star], withAllTools, withDecoy: false), time);
        var general = TestPolicies.Evaluator(Document(Stars[star], withAllTools, withDecoy: true), time);
        foreach (var identity in new[] { Alice, Nobody })
        {
            foreach (var tool in Tools)
            {
                foreach (var json in Arguments)
                {
                    var args = TestPolicies.Args(json);
                    for (var repeat = 0; repeat < 3; repeat++)
                    {
                        var expected = general.Evaluate(identity, tool, args);
                        var actual = fast.Evaluate(identity, tool, args);
                        Assert.True(
                            (expected.Kind, expected.Rule, expected.Reason, expected.RetryAfter) == (actual.Kind, actual.Rule, actual.Reason, actual.RetryAfter),
                            $"{identity.Id} {tool} {json}: expected {expected}, got {actual}");
                        general.Complete(expected, succeeded: true);
                        fast.Complete(actual, succeeded: true);
                    }
                }
            }
        }
    }

    [Fact]
    public void Evaluate_LoneStarDeny_GivesItsReasonAndPointerForUnlistedTools()
    {
        var evaluator = TestPolicies.Evaluator(Document(Stars[0], withAllTools: false, withDecoy: false));

        var decision = evaluator.Evaluate(Alice, "drop_database", NoArgs);
        Assert.Equal((DecisionKind.Deny, "/tools/*", "only the listed tools are available"), (decision.Kind, decision.Rule, decision.Reason));
        Assert.True(evaluator.Evaluate(Alice, "read_file", NoArgs).IsAllowed);
        Assert.Equal(BuiltInRules.InvalidArguments, evaluator.Evaluate(Alice, "drop_database", TestPolicies.Args("[1]")).Rule);
    }

    [Fact]
    public void Evaluate_StarWithHideGlob_HidesWhatTheGlobCovers()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "hide": ["admin_*"], "tools": { "*": {} } }
            """);

        Assert.Equal(BuiltInRules.Hidden, evaluator.Evaluate(Alice, "admin_reset", NoArgs).Rule);
        Assert.True(evaluator.Evaluate(Alice, "search", NoArgs).IsAllowed);
    }

    [Property(MaxTest = 200)]
    public Property Evaluate_AnyToolName_LoneAllowStarAgreesWithTheGeneralPath(NonNull<string> name)
    {
        var fast = TestPolicies.Evaluator(Document(Stars[1], withAllTools: false, withDecoy: false));
        var general = TestPolicies.Evaluator(Document(Stars[1], withAllTools: false, withDecoy: true));
        var expected = general.Evaluate(Alice, name.Get, NoArgs);
        var actual = fast.Evaluate(Alice, name.Get, NoArgs);
        return ((expected.Kind, expected.Rule) == (actual.Kind, actual.Rule)).Label($"{name.Get}: {expected} vs {actual}");
    }
}
