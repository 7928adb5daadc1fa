using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Audit;

namespace PolicyEngine.Cli.Tests.Commands;

public sealed class AuditCommandTests
{
    private static async Task<string> TrailAsync(long maxFileBytes = 0)
    {
        var directory = Directory.CreateTempSubdirectory("pe-audit-cli-").FullName;
        var path = Path.Combine(directory, "audit.jsonl");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var trail = AuditTrail.ToFile(path, new AuditTrailOptions { MaxFileBytes = maxFileBytes }, time);
        var enforced = new PolicyEvaluator(Policy.Parse("""
            { "version": "2", "default": "deny", "tools": {
                "echo": { "deny_if": [ { "path": "args.m", "op": "eq", "value": "secret" } ] },
                "sum": { "limits": [ { "counter": "s", "window": "minute", "max": 2, "scope": "grant" } ] } } }
            """), timeProvider: time);
        var shadow = new ShadowPolicyEvaluator(enforced, Policy.Parse("""{ "version": "2", "default": "deny", "tools": { "echo": {} } }"""), timeProvider: time);
        using var a = trail.Attach(enforced);
        using var b = trail.Attach(shadow);
        var alice = new PolicyIdentity("alice");
        JsonElement Args(string json) => JsonDocument.Parse(json).RootElement.Clone();
        for (var i = 0; i < 3; i++)
        {
            shadow.Evaluate(alice, "echo", Args("""{"m":"hi"}"""));
            shadow.Evaluate(alice, "echo", Args("""{"m":"secret"}"""));
        }

        for (var i = 0; i < 4; i++)
        {
            shadow.Evaluate(alice, "sum", Args("{}"));
        }

        shadow.Evaluate(alice, "nope", Args("{}"));
        return path;
    }

    [Fact]
    public async Task Verify_IntactTrail_ExitsZero()
    {
        var path = await TrailAsync();

        var (code, stdout, _) = await CliRunner.RunAsync("", "audit", "verify", path);

        Assert.Equal(0, code);
        Assert.StartsWith("intact: 19 record(s) in 1 file(s)", stdout, StringComparison.Ordinal);
        Assert.Contains("last hash: ", stdout);
    }

    [Fact]
    public async Task Verify_EditedLine_ExitsOneNamingIt()
    {
        var path = await TrailAsync();
        var lines = File.ReadAllLines(path);
        lines[2] = lines[2].Replace("\"kind\":\"deny\"", "\"kind\":\"allow\"", StringComparison.Ordinal);
        File.WriteAllLines(path, lines);

        var (code, stdout, _) = await CliRunner.RunAsync("", "audit", "verify", path);

        Assert.Equal(1, code);
        Assert.StartsWith($"broken: {path}:3: record seq 3 was edited", stdout, StringComparison.Ordinal);
        Assert.Contains("2 record(s) verified before it", stdout);
    }

    [Fact]
    public async Task Verify_RotatedFiles_InAnyOrder_ExitsZero_AndOneMissing_ExitsOne()
    {
        var path = await TrailAsync(maxFileBytes: 1500);
        var files = Directory.GetFiles(Path.GetDirectoryName(path)!).Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length > 2);

        Assert.Equal(0, (await CliRunner.RunAsync("", ["audit", "verify", .. files.Reverse()])).ExitCode);
        var (code, stdout, _) = await CliRunner.RunAsync("", ["audit", "verify", .. files.Skip(1)]);
        Assert.Equal(1, code);
        Assert.Contains("expected seq 1", stdout);
    }

    [Fact]
    public async Task Summary_CountsByToolAndKind_TopRules_AndShadow()
    {
        var path = await TrailAsync();

        var (code, stdout, _) = await CliRunner.RunAsync("", "audit", "summary", path);

        Assert.Equal(0, code);
        Assert.Contains("chain: intact (19 records)", stdout);
        Assert.Matches(@"\n  echo\s+3\s+3\s+0\s+0\n", stdout);
        Assert.Matches(@"\n  sum\s+2\s+0\s+2\s+0\n", stdout);
        Assert.Matches(@"\n  nope\s+0\s+1\s+0\s+0\n", stdout);
        Assert.Matches(@"\n\s+3\s+deny\s+/tools/echo/deny_if/0\n", stdout);
        Assert.Matches(@"\n\s+2\s+rate_limited\s+/tools/sum/limits/0\n", stdout);
        Assert.Matches(@"\n\s+3\s+echo\s+deny->allow\n", stdout);
        Assert.Matches(@"\n\s+2\s+sum\s+allow->deny\n", stdout);
        Assert.Matches(@"\n\s+2\s+sum\s+rate_limited->deny\n", stdout);
    }

    [Theory]
    [InlineData("verify")]
    [InlineData("summary")]
    public async Task MissingFile_ExitsTwo(string action)
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "audit", action, "/no/such/audit.jsonl");

        Assert.Equal(2, code);
        Assert.Contains("no such file", stderr);
    }

    [Fact]
    public async Task UnknownAction_ExitsTwo()
    {
        Assert.Equal(2, (await CliRunner.RunAsync("", "audit", "repair", "x")).ExitCode);
    }
}
