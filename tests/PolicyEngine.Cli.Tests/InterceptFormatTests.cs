using System.Text.Json;

namespace PolicyEngine.Cli.Tests;

/// <summary><c>--format intercept</c> for validate and eval, and the import command.</summary>
public sealed class InterceptFormatTests
{
    private const string Yaml = """
        version: "1"
        tools:
          create_issue:
            rules:
              - name: "hourly issue limit"
                rate_limit: 2/hour
          delete_repository:
            rules:
              - name: "block"
                action: deny
                on_deny: "no deletions"
        """;

    [Fact]
    public async Task Import_ValidYaml_PrintsVersion2Json()
    {
        var path = CliRunner.TempFile(Yaml, ".yaml");
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "import", path);
        Assert.Equal(0, code);
        var document = PolicyDocument.Parse(stdout);
        Assert.Equal("2", document.Version);
        Assert.Equal(2, document.Tools.Count);
    }

    [Fact]
    public async Task Import_InvalidYaml_ExitsOneWithJsonLines()
    {
        var path = CliRunner.TempFile("version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: r, conditions: [{path: args.a, op: like, value: 1}]}\n", ".yaml");
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "import", path);
        Assert.Equal(1, code);
        using var line = JsonDocument.Parse(stdout.Trim());
        Assert.Equal("/tools/t/rules/0/conditions/0/op", line.RootElement.GetProperty("pointer").GetString());
        Assert.Equal("unknown operator \"like\"", line.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Validate_FormatIntercept_ExitsZero()
    {
        var path = CliRunner.TempFile(Yaml, ".yaml");
        var (code, stdout, _) = await CliRunner.RunAsync(string.Empty, "validate", path, "--format", "intercept");
        Assert.Equal(0, code);
        Assert.Equal(string.Empty, stdout);
    }

    [Fact]
    public async Task Eval_FormatIntercept_CountsAndRollsBack()
    {
        var path = CliRunner.TempFile(Yaml, ".yaml");
        const string calls = """
            {"identity": "a", "tool": "create_issue", "args": {}, "at": "2026-01-01T00:00:00Z", "outcome": "error"}
            {"identity": "b", "tool": "create_issue", "args": {}}
            {"identity": "c", "tool": "create_issue", "args": {}}
            {"identity": "d", "tool": "create_issue", "args": {}}
            {"identity": "a", "tool": "delete_repository", "args": {}}
            """;
        var (code, stdout, _) = await CliRunner.RunAsync(calls, "eval", "--policy", path, "--format", "intercept");
        Assert.Equal(0, code);
        var decisions = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("decision").GetString()).ToArray();
        Assert.Equal(["allow", "allow", "allow", "rate_limited", "deny"], decisions);
    }

    [Fact]
    public async Task Eval_Intercept_HiddenAndUnlistedTools_GetInterceptsMessages()
    {
        var path = CliRunner.TempFile("version: \"1\"\ndefault: deny\nhide: [secret]\ntools:\n  ok:\n    rules: []\n", ".yaml");
        const string calls = """
            {"identity": "a", "tool": "secret", "args": {}}
            {"identity": "a", "tool": "other", "args": {}}
            """;
        var (code, stdout, _) = await CliRunner.RunAsync(calls, "eval", "--policy", path, "--format", "intercept");
        Assert.Equal(0, code);
        var reasons = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("reason").GetString()).ToArray();
        Assert.Equal(["Tool \"secret\" is hidden by policy", "Tool \"other\" is not permitted by policy"], reasons);
    }
}
