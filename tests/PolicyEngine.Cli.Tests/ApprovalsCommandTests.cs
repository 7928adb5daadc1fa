using System.Text.Json;
using PolicyEngine.Sqlite;

namespace PolicyEngine.Cli.Tests;

/// <summary><c>policyengine approvals list|approve|deny --store …</c> over a SQLite queue a guard wrote.</summary>
public sealed class ApprovalsCommandTests : IDisposable
{
    private const string PolicyJson = """
        { "version": "2", "default": "deny", "tools": { "refund": { "approval": {
            "reason": "refunds need finance", "preview": ["args.amount"],
            "approvers": [ { "path": "identity.roles", "op": "contains", "value": "finance" } ] } } } }
        """;

    private readonly string _database = Path.Combine(Path.GetTempPath(), $"policyengine-approvals-{Guid.NewGuid():N}.db");
    private readonly string _policy = CliRunner.TempFile(PolicyJson);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var path in new[] { _database, _database + "-wal", _database + "-shm", _policy })
        {
            File.Delete(path);
        }
    }

    /// <summary>What a guard does: the agent's call needs approval and goes into the queue.</summary>
    private async Task<(PolicyEvaluator Guard, PendingApproval Pending, JsonElement Args)> QueueACallAsync(long amount = 4200)
    {
        var guard = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(PolicyJson)), approvalStore: new SqliteApprovalStore(_database));
        var args = JsonDocument.Parse($$"""{"amount": {{amount}}, "card": "4111-SECRET"}""").RootElement;
        var pending = await guard.RequestApprovalAsync(guard.Evaluate(new PolicyIdentity("agent"), "refund", args), args, TestContext.Current.CancellationToken);
        return (guard, pending, args);
    }

    [Fact]
    public async Task List_PrintsPendingRequests_WithoutArgumentValues()
    {
        var (_, pending, _) = await QueueACallAsync();

        var (code, stdout, stderr) = await CliRunner.RunAsync("", "approvals", "list", "--store", "sqlite:" + _database);

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        var line = Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal(pending.Id, json.RootElement.GetProperty("id").GetString());
        Assert.Equal("pending", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("4200", json.RootElement.GetProperty("preview").GetProperty("args.amount").GetString());
        Assert.DoesNotContain("4111-SECRET", stdout, StringComparison.Ordinal);
        Assert.Equal("", (await CliRunner.RunAsync("", "approvals", "list", "--store", _database, "--status", "approved")).Stdout);
    }

    [Fact]
    public async Task Approve_AsAnApprover_LetsTheCallRunOnce()
    {
        var (guard, pending, args) = await QueueACallAsync();

        var (code, stdout, _) = await CliRunner.RunAsync("", "approvals", "approve", pending.Id, "--store", _database, "--policy", _policy, "--as", "fiona", "--role", "finance", "--comment", "ok");

        Assert.Equal(0, code);
        Assert.Contains("\"outcome\":\"approved\"", stdout, StringComparison.Ordinal);
        Assert.Equal(DecisionKind.Allow, guard.Evaluate(new PolicyIdentity("agent"), "refund", args).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, guard.Evaluate(new PolicyIdentity("agent"), "refund", args).Kind);
        var history = (await CliRunner.RunAsync("", "approvals", "list", "--store", _database, "--status", "all")).Stdout;
        Assert.Contains("\"status\":\"consumed\"", history, StringComparison.Ordinal);
        Assert.Contains("\"comment\":\"ok\"", history, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("agent", "finance", "self_approval")]
    [InlineData("eve", "support", "not_authorized")]
    public async Task Approve_ByTheCallerOrANonApprover_IsRefusedWithExitOne(string who, string role, string outcome)
    {
        var (guard, pending, args) = await QueueACallAsync();

        var (code, stdout, _) = await CliRunner.RunAsync("", "approvals", "approve", pending.Id, "--store", _database, "--policy", _policy, "--as", who, "--role", role);

        Assert.Equal(1, code);
        Assert.Contains($"\"outcome\":\"{outcome}\"", stdout, StringComparison.Ordinal);
        Assert.Equal(DecisionKind.NeedsApproval, guard.Evaluate(new PolicyIdentity("agent"), "refund", args).Kind);
    }

    [Fact]
    public async Task Deny_ThenApprove_TheSecondVoteIsRefused()
    {
        var (_, pending, _) = await QueueACallAsync();

        var denied = await CliRunner.RunAsync("", "approvals", "deny", pending.Id, "--store", _database, "--policy", _policy, "--as", "fiona", "--role", "finance");
        var approved = await CliRunner.RunAsync("", "approvals", "approve", pending.Id, "--store", _database, "--policy", _policy, "--as", "frank", "--role", "finance");

        Assert.Equal(0, denied.ExitCode);
        Assert.Equal(1, approved.ExitCode);
        Assert.Contains("\"outcome\":\"not_pending\"", approved.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UsageErrors_ExitTwo()
    {
        var (_, pending, _) = await QueueACallAsync();

        Assert.Equal(2, (await CliRunner.RunAsync("", "approvals", "approve", pending.Id, "--store", _database, "--policy", _policy)).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("", "approvals", "list")).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("", "approvals", "list", "--store", _database, "--limit", "0")).ExitCode);
        Assert.Equal(2, (await CliRunner.RunAsync("", "approvals", "approve", pending.Id, "--store", _database, "--policy", "/nonexistent/p.json", "--as", "fiona")).ExitCode);
    }
}
