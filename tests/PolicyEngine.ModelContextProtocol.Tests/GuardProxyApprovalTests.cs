using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using PolicyEngine.Sqlite;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// <c>policyengine-proxy --approvals FILE</c>: the queue lives in a SQLite file another process (here the test, as
/// <c>policyengine approvals approve</c> would) votes in; the agent's retry then runs once. Upstream: samples/PwnoStandIn.
/// </summary>
public sealed class GuardProxyApprovalTests
{
    private const string PolicyJson = """
        { "version": "2", "default": "allow", "tools": { "execute": { "approval": {
            "reason": "running code needs security", "preview": ["args.code"],
            "approvers": [ { "path": "identity.roles", "op": "contains", "value": "security" } ] } } } }
        """;

    [Fact]
    public async Task PendingInTheProxy_ApprovedThroughTheSqliteQueue_RetryRunsOnce()
    {
        var directory = Directory.CreateTempSubdirectory("pe-proxy-approvals-").FullName;
        var policy = Path.Combine(directory, "policy.json");
        var queue = Path.Combine(directory, "approvals.db");
        await File.WriteAllTextAsync(policy, PolicyJson, Ct);
        await using var client = await ConnectStdioAsync(
            "GuardProxy",
            ["--policy", policy, "--identity", "agent", "--approvals", queue, "--approval-wait", "return", "--", "dotnet", Dll("PwnoStandIn")]);
        var args = new Dictionary<string, object?> { ["code"] = "print(1)" };

        var first = await client.CallToolAsync("execute", args, cancellationToken: Ct);
        Assert.True(first.IsError);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(first.Content)).Text;

        // Another process: the policy and the same SQLite file, as the CLI opens them.
        var approver = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(PolicyJson)), approvalStore: new SqliteApprovalStore(queue));
        var pending = Assert.Single(await approver.ListApprovalsAsync(cancellationToken: Ct));
        Assert.Contains(pending.Id, text, StringComparison.Ordinal);
        Assert.Equal("\"print(1)\"", pending.Preview["args.code"]);
        Assert.Equal(ApprovalOutcome.SelfApproval, (await approver.ApproveAsync(pending.Id, PolicyIdentity.WithRoles("agent", "security"), null, Ct)).Outcome);
        Assert.Equal(ApprovalOutcome.Approved, (await approver.ApproveAsync(pending.Id, PolicyIdentity.WithRoles("sam", "security"), "looks harmless", Ct)).Outcome);

        var retried = await client.CallToolAsync("execute", args, cancellationToken: Ct);
        Assert.DoesNotContain("approv", Assert.IsType<TextContentBlock>(Assert.Single(retried.Content)).Text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("PwnoStandIn", Assert.IsType<TextContentBlock>(Assert.Single(retried.Content)).Text, StringComparison.Ordinal);
        var again = await client.CallToolAsync("execute", args, cancellationToken: Ct);
        Assert.True(again.IsError);
        Assert.Equal(ApprovalStatus.Consumed, (await approver.GetApprovalAsync(pending.Id, Ct))!.Status);
    }
}
