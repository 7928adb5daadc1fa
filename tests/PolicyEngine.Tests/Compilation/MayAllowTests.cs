using System.Text.Json;

namespace PolicyEngine.Tests.Compilation;

/// <summary><see cref="Policy.MayAllow"/>: which tools a caller could ever be allowed to call (for tools/list).</summary>
public class MayAllowTests
{
    private const string Document = """
        {
          "version": "2",
          "default": "deny",
          "hide": ["secret_*"],
          "all_tools": { "deny_if": [ { "path": "identity.banned", "op": "eq", "value": true } ] },
          "tools": {
            "read": {},
            "refund": { "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100 } ],
                        "limits": [ { "counter": "r", "window": "minute", "max": 1, "scope": "grant" } ] },
            "drop_table": { "action": "deny", "on_deny": "never" },
            "fs_*": { "action": "deny" },
            "fs_read": {},
            "delete_*": { "require": [ { "path": "identity.roles", "op": "contains", "value": "admin" } ] },
            "approve_me": { "approval": { "reason": "ask" } },
            "secret_tool": {}
          }
        }
        """;

    private static readonly Policy Compiled = Policy.Parse(Document);

    private static PolicyIdentity Alice => new("alice");

    private static PolicyIdentity Admin => PolicyIdentity.WithRoles("root", "admin");

    private static PolicyIdentity Banned => new("mallory", new Dictionary<string, JsonElement> { ["banned"] = JsonSerializer.SerializeToElement(true) });

    [Theory]
    [InlineData("read", true)]
    [InlineData("refund", true)] // arguments and limits may still deny a call, not every call
    [InlineData("approve_me", true)] // a person may approve
    [InlineData("fs_read", true)] // an exact name beats the denying glob
    [InlineData("fs_write", false)] // "action": "deny" through a glob
    [InlineData("drop_table", false)]
    [InlineData("unlisted", false)] // default deny
    [InlineData("secret_tool", false)] // hidden
    [InlineData("delete_user", false)] // a role gate alice fails
    public void MayAllow_ForAnOrdinaryCaller(string tool, bool expected) =>
        Assert.Equal(expected, Compiled.MayAllow(Alice, tool));

    [Fact]
    public void MayAllow_RoleGates_FollowTheIdentity()
    {
        Assert.True(Compiled.MayAllow(Admin, "delete_user"));
        Assert.False(Compiled.MayAllow(Banned, "read")); // all_tools' identity check denies every call of this caller
    }

    [Fact]
    public void MayAllow_DefaultAllow_ListsUnlistedTools()
    {
        var policy = Policy.Parse("""{ "version": "1", "default": "allow", "hide": ["h"], "tools": { "x": {} } }""");

        Assert.True(policy.MayAllow(Alice, "anything"));
        Assert.False(policy.MayAllow(Alice, "h"));
    }

    [Theory]
    [InlineData("fs_write")]
    [InlineData("drop_table")]
    [InlineData("unlisted")]
    [InlineData("secret_tool")]
    [InlineData("delete_user")]
    public void MayAllowFalse_EveryCallIsRefused(string tool)
    {
        // The promise that makes dropping such tools from tools/list safe: no arguments get them allowed.
        var evaluator = new PolicyEvaluator(Compiled);
        foreach (var args in new[] { "{}", """{"amount": 1}""", """{"path": "/x", "admin": true}""", """{"roles": ["admin"]}""" })
        {
            var decision = evaluator.Evaluate(Alice, tool, JsonDocument.Parse(args).RootElement);
            Assert.False(decision.IsAllowed, $"{tool} {args}: {decision.Kind} by {decision.Rule}");
            Assert.NotEqual(DecisionKind.NeedsApproval, decision.Kind);
        }
    }
}
