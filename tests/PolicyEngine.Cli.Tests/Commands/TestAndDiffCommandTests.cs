namespace PolicyEngine.Cli.Tests.Commands;

/// <summary><c>policyengine test</c> and <c>policyengine diff</c>: output and exit codes.</summary>
public class TestAndDiffCommandTests
{
    private const string Policy = """
        {
          "version": "2", "default": "deny",
          "tools": {
            "list_files": {},
            "pay": { "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100 } ] }
          }
        }
        """;

    private static string TestFile(string policyPath, string cases) =>
        CliRunner.TempFile("{\"policy\": \"" + Path.GetFileName(policyPath) + "\", \"cases\": [" + cases + "]}", ".tests.json");

    [Fact]
    public async Task Test_AllPass_ClosingLineAndExitZero()
    {
        var policy = CliRunner.TempFile(Policy);
        var file = TestFile(policy, """
            {"name": "small", "tool": "pay", "args": {"amount": 100}, "expect": "allow"},
            {"name": "large", "tool": "pay", "args": {"amount": 101}, "expect": "deny", "rule": "/tools/pay/deny_if/0"}
            """);
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "test", file);
        Assert.Equal(0, code);
        Assert.Equal("2 passed, 0 failed\n", stdout.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Test_Failures_OneLineEachAndExitOne()
    {
        var policy = CliRunner.TempFile(Policy);
        var file = TestFile(policy, """
            {"name": "small", "tool": "pay", "args": {"amount": 100}, "expect": "deny"},
            {"name": "ok", "tool": "list_files", "expect": "allow"},
            {"name": "unknown", "tool": "rm", "expect": "allow"}
            """);
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "test", file);
        Assert.Equal(1, code);
        var lines = stdout.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal($"{file}: case \"small\": expected deny, got allow by /tools/pay", lines[0]);
        Assert.StartsWith($"{file}: case \"unknown\": expected allow, got deny by (default deny)", lines[1], StringComparison.Ordinal);
        Assert.Equal("1 passed, 2 failed", lines[2]);
    }

    [Fact]
    public async Task Test_InvalidFile_CountsAsAFailureWithPointers()
    {
        var file = CliRunner.TempFile("""{"policy": {"version": "2", "default": "deny"}, "cases": [{"tool": "x"}]}""", ".tests.json");
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "test", file);
        Assert.Equal(1, code);
        Assert.Contains($"{file}: invalid test file: /cases/0: \"expect\" is required", stdout, StringComparison.Ordinal);
        Assert.EndsWith("0 passed, 1 failed\n", stdout.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_NoFile_UsageError()
    {
        var (code, _, stderr) = await CliRunner.RunAsync(string.Empty, "test");
        Assert.Equal(2, code);
        Assert.Contains("policyengine test: missing FILE|DIR", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_Identical_ExitZero()
    {
        var a = CliRunner.TempFile(Policy);
        var b = CliRunner.TempFile(Policy.Replace("\"version\": \"2\"", "\"version\": \"1\"", StringComparison.Ordinal).Replace("\"list_files\": {},", "\"list_files\": {} ,", StringComparison.Ordinal));
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "diff", a, b, "--calls", "500");
        Assert.Equal(0, code);
        Assert.StartsWith("identical: ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Diff_BoundaryMoved_GroupedByToolExitOne()
    {
        var a = CliRunner.TempFile(Policy);
        var b = CliRunner.TempFile(Policy.Replace("\"gt\"", "\"gte\"", StringComparison.Ordinal));
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "diff", a, b, "--calls", "1000");
        Assert.Equal(1, code);
        var lines = stdout.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        Assert.Equal("\"pay\"", lines[0]);
        Assert.StartsWith("  allow by /tools/pay → deny by /tools/pay/deny_if/0: ", lines[1], StringComparison.Ordinal);
        Assert.All(lines[2..^1], l => Assert.Matches("^    \"pay\" called by .* with \\{\"amount\":100(\\.0)?\\}$", l));
        Assert.Matches("^\\d+ of \\d+ generated calls change decision \\(1 kind of change in 1 tool\\)$", lines[^1]);
    }

    [Fact]
    public async Task Diff_InvalidPolicy_ExitsOneLikeEveryCommand()
    {
        var a = CliRunner.TempFile(Policy);
        var b = CliRunner.TempFile("""{"version": "2"}""");
        var (code, _, stderr) = await CliRunner.RunAsync(string.Empty, "diff", a, b);
        Assert.Equal(1, code);
        Assert.Contains("is not a valid policy", stderr, StringComparison.Ordinal);
    }
}
