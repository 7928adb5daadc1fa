using System.Text.Json;

namespace PolicyEngine.Cli.Tests.Commands;

public sealed class LintCommandTests
{
    /// <summary>A deliberately sloppy policy: one finding of each kind the linter reports.</summary>
    internal const string Sloppy = """
        {
          "version": "2",
          "default": "deny",
          "hide": ["debug_*", "debug_dump", "old_tool"],
          "all_tools": { "limits": [ { "counter": "all_calls", "window": "minute", "max": 60, "scope": "grant" } ] },
          "tools": {
            "refund": {
              "require": [ { "path": "args.amount", "op": "gt", "value": 100 }, { "path": "args.amount", "op": "lt", "value": 50 } ],
              "approval": { "reason": "refunds need a person" }
            },
            "search": {
              "deny_if": [ { "path": "args.query", "op": "in", "value": [] } ],
              "limits": [ { "counter": "searches", "window": "minute", "max": 100, "scope": "grant" } ]
            },
            "charge": {
              "args_schema": { "type": "object", "properties": { "amount": { "type": "string" } } },
              "limits": [ { "counter": "spend", "window": "day", "max": 100000, "scope": "grant", "cost_from": "args.amount" } ]
            },
            "debug_dump": {},
            "fs_*": {},
            "fs_read": {},
            "fs_write": { "approval": { "reason": "writes files" } }
          }
        }
        """;

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public async Task Lint_SloppyPolicy_ExitsOne_WithOneLinePerFinding()
    {
        var policy = CliRunner.TempFile(Sloppy);
        var tools = CliRunner.TempFile("""{ "tools": [ { "name": "refund" }, { "name": "search" }, { "name": "charge" }, { "name": "fs_read" }, { "name": "fs_write" }, { "name": "debug_dump" } ] }""");

        var (code, stdout, stderr) = await CliRunner.RunAsync("", "lint", policy, "--tools", tools);

        Assert.Equal(1, code);
        var findings = Lines(stdout);
        Assert.All(findings, f => Assert.Equal(["pointer", "severity", "code", "message"], f.EnumerateObject().Select(p => p.Name)));
        var byPointer = findings.Select(f => (f.GetProperty("pointer").GetString(), f.GetProperty("severity").GetString(), f.GetProperty("code").GetString())).ToList();
        Assert.Contains(("/tools/refund/require/1", "error", LintCodes.RequireNeverHolds), byPointer);
        Assert.Contains(("/tools/refund/approval", "warning", LintCodes.ApprovalNeverAsked), byPointer);
        Assert.Contains(("/tools/search/deny_if/0", "warning", LintCodes.DenyIfNeverHolds), byPointer);
        Assert.Contains(("/tools/search/limits/0", "warning", LintCodes.LimitNeverReached), byPointer);
        Assert.Contains(("/tools/charge/limits/0/cost_from", "error", LintCodes.CostFromNotNumber), byPointer);
        Assert.Contains(("/hide/1", "warning", LintCodes.HideRedundant), byPointer);
        Assert.Contains(("/hide/2", "warning", LintCodes.HideMatchesNothing), byPointer);
        Assert.Contains(("/tools/debug_dump", "warning", LintCodes.EntryHidden), byPointer);
        Assert.Contains(("/tools/fs_*", "warning", LintCodes.GlobShadowed), byPointer);
        Assert.Contains("2 error(s)", stderr);
    }

    [Fact]
    public async Task Lint_WarningsOnly_ExitsZero()
    {
        var policy = CliRunner.TempFile("""{ "version": "2", "default": "deny", "hide": ["a", "a"] }""");

        var (code, stdout, _) = await CliRunner.RunAsync("", "lint", policy);

        Assert.Equal(0, code);
        Assert.Equal(LintCodes.HideRedundant, Assert.Single(Lines(stdout)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Lint_InvalidPolicy_ExitsOneWithValidateLines()
    {
        var (code, stdout, _) = await CliRunner.RunAsync("", "lint", CliRunner.TempFile("""{ "version": "2", "default": "maybe" }"""));

        Assert.Equal(1, code);
        Assert.Equal("/default", Assert.Single(Lines(stdout)).GetProperty("pointer").GetString());
    }

    [Theory]
    [InlineData("/no/such/policy.json", null)]
    [InlineData(null, "/no/such/tools.json")]
    [InlineData(null, "not-a-tools-list")]
    public async Task Lint_UnreadableInput_ExitsTwo(string? policy, string? tools)
    {
        policy ??= CliRunner.TempFile("""{ "version": "2", "default": "deny" }""");
        if (tools == "not-a-tools-list")
        {
            tools = CliRunner.TempFile("""{ "tools": 5 }""");
        }

        string[] args = tools is null ? ["lint", policy] : ["lint", policy, "--tools", tools];
        var (code, _, stderr) = await CliRunner.RunAsync("", args);

        Assert.Equal(2, code);
        Assert.StartsWith("policyengine lint:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_ToolsAsAnArrayOfNames_IsAccepted()
    {
        var policy = CliRunner.TempFile("""{ "version": "2", "default": "deny", "tools": { "echo": {}, "ecko": {} } }""");

        var (code, stdout, _) = await CliRunner.RunAsync("", "lint", policy, "--tools", CliRunner.TempFile("""["echo"]"""));

        Assert.Equal(0, code);
        Assert.Equal("/tools/ecko", Assert.Single(Lines(stdout)).GetProperty("pointer").GetString());
    }
}
