using System.Text.Json;

namespace PolicyEngine.Cli.Tests.Commands;

public class EvalCommandTests
{
    private const string Policy = """
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "read": {},
            "refund": {
              "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100, "on_deny": "too much" } ],
              "limits": [ { "counter": "refunds", "window": "minute", "max": 2, "scope": "grant" } ]
            },
            "run": { "approval": { "reason": "a person must look", "ttl": "5m" } },
            "admin_only": { "require": [ { "path": "identity.roles", "op": "contains", "value": "admin" } ] }
          }
        }
        """;

    private static async Task<List<JsonElement>> Eval(params string[] lines)
    {
        var path = CliRunner.TempFile(Policy);
        var (code, stdout, stderr) = await CliRunner.RunAsync(string.Join('\n', lines), "eval", "--policy", path);
        Assert.Equal(0, code);
        Assert.Equal("", stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    private static string Kind(JsonElement e) => e.GetProperty("decision").GetString()!;

    [Fact]
    public async Task Eval_OneDecisionPerLine_InOrder()
    {
        var output = await Eval(
            """{"identity": "alice", "tool": "read", "args": {}}""",
            """{"identity": "alice", "tool": "write", "args": {}}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 500}}""");

        Assert.Equal(["allow", "deny", "deny"], output.Select(Kind));
        Assert.Equal("(default deny)", output[1].GetProperty("rule").GetString());
        Assert.Equal("/tools/refund/deny_if/0", output[2].GetProperty("rule").GetString());
        Assert.Equal("too much", output[2].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Eval_OneStoreForTheRun_LimitsCarryAcrossLinesAndWindowsFollowAt()
    {
        var output = await Eval(
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "at": "2026-01-01T00:00:10Z"}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "at": "2026-01-01T00:00:30Z"}""",
            """{"identity": "bob", "tool": "refund", "args": {"amount": 1}}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "at": "2026-01-01T00:01:00Z"}""");

        Assert.Equal(["allow", "allow", "rate_limited", "allow", "allow"], output.Select(Kind));
        Assert.Equal(30_000, output[2].GetProperty("retry_after_ms").GetInt64());
        Assert.Equal("/tools/refund/limits/0", output[2].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Eval_OutcomeError_RollsTheReservationBack()
    {
        var output = await Eval(
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "at": "2026-01-01T00:00:00Z", "outcome": "error"}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "outcome": "error"}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}, "outcome": "ok"}""",
            """{"identity": "alice", "tool": "refund", "args": {"amount": 1}}""");

        Assert.Equal(["allow", "allow", "allow", "allow", "rate_limited"], output.Select(Kind));
    }

    [Fact]
    public async Task Eval_Approve_PrintsOnlyTheFinalDecision()
    {
        var output = await Eval(
            """{"identity": "alice", "tool": "run", "args": {"code": "1"}}""",
            """{"identity": "alice", "tool": "run", "args": {"code": "1"}, "approve": true}""",
            """{"identity": "alice", "tool": "run", "args": {"code": "1"}}""");

        Assert.Equal(["needs_approval", "allow", "needs_approval"], output.Select(Kind));
        Assert.Matches("^[0-9a-f]{64}$", output[0].GetProperty("approval_id").GetString());
        Assert.Equal("a person must look", output[0].GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Eval_IdentityObject_ProvidesAttributes()
    {
        var output = await Eval(
            """{"identity": {"id": "root", "roles": ["admin"]}, "tool": "admin_only", "args": {}}""",
            """{"identity": {"id": "eve", "roles": ["dev"]}, "tool": "admin_only", "args": {}}""");

        Assert.Equal(["allow", "deny"], output.Select(Kind));
    }

    [Fact]
    public async Task Eval_MalformedLines_PrintAnErrorAndTheRunGoesOn()
    {
        var output = await Eval(
            "not json",
            """{"identity": "alice"}""",
            """{"identity": "alice", "tool": "read", "args": {}, "at": "yesterday"}""",
            """{"identity": "alice", "tool": "read", "args": {}, "outcome": "maybe"}""",
            """{"identity": "alice", "tool": "read", "args": {}}""");

        Assert.Equal(4, output.Count(e => e.TryGetProperty("error", out _)));
        Assert.Equal("allow", Kind(output[^1]));
    }

    [Fact]
    public async Task Eval_UnknownKeysInALine_AreIgnoredWithAWarningOnStderr()
    {
        // Test harnesses keep expectations next to the call; a typo must not pass unnoticed either.
        var path = CliRunner.TempFile(Policy);
        var (code, stdout, stderr) = await CliRunner.RunAsync(
            """
            {"identity": {"id": "root", "roles": ["admin"]}, "tool": "admin_only", "args": {}, "expect": "allow"}

            {"identity": "eve", "tool": "admin_only", "args": {}, "outcom": "error"}
            """,
            "eval",
            "--policy",
            path);

        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(["allow", "deny"], lines.Select(Kind));
        Assert.Contains("line 1: unknown key \"expect\" ignored", stderr, StringComparison.Ordinal);
        Assert.Contains("line 3: unknown key \"outcom\" ignored", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_InvalidPolicy_ExitsOneWithErrorsOnStderr()
    {
        var path = CliRunner.TempFile("""{ "version": "2" }""");

        var (code, stdout, stderr) = await CliRunner.RunAsync("", "eval", "--policy", path);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("default", stderr);
    }

    [Fact]
    public async Task Eval_InputFile_IsReadInsteadOfStdin()
    {
        var policy = CliRunner.TempFile(Policy);
        var input = CliRunner.TempFile("""{"identity": "alice", "tool": "read", "args": {}}""" + "\n", ".jsonl");

        var (code, stdout, _) = await CliRunner.RunAsync("""{"identity": "alice", "tool": "nope"}""", "eval", "--policy", policy, "--input", input);

        Assert.Equal(0, code);
        Assert.Equal("allow", Kind(JsonDocument.Parse(stdout.Trim()).RootElement));
    }

    [Fact]
    public async Task Explain_PrintsEveryRuleAndTheDecision()
    {
        var path = CliRunner.TempFile(Policy);

        var (code, stdout, _) = await CliRunner.RunAsync("", "explain", "--policy", path, "--json", "--call", """{"identity": "alice", "tool": "refund", "args": {"amount": 500}}""");

        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(lines, l => l.TryGetProperty("rule", out var r) && r.GetString() == "/tools/refund/deny_if/0" && !l.GetProperty("passed").GetBoolean());
        Assert.Contains(lines, l => l.TryGetProperty("rule", out var r) && r.GetString() == "/tools/refund/limits/0");
        Assert.Equal("deny", Kind(lines[^1]));
    }
}
