using System.Text.Json;

namespace PolicyEngine.Cli.Tests.Commands;

public class MigrateCommandTests
{
    private const string Version1 = """
        { "version": "1", "default": "deny", "hide": ["drop"],
          "all_tools": { "limits": [ { "counter": "calls", "window": "minute", "max": 60, "scope": "grant" } ] },
          "tools": { "refund": { "require": [ { "path": "args.reason", "op": "exists", "value": true } ],
                                 "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000, "on_deny": "too much" } ] } } }
        """;

    [Fact]
    public async Task Migrate_Version1_PrintsTheEquivalentVersion2Document()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", "migrate", CliRunner.TempFile(Version1));

        Assert.Equal((0, ""), (code, stderr));
        var migrated = PolicyDocument.Parse(stdout);
        Assert.Equal("2", migrated.Version);
        Assert.Equal(PolicyDocument.Parse(Version1).MigrateToLatest().ToJson(), migrated.ToJson());

        // Same meaning: both decide a few calls alike.
        var before = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(Version1)));
        var after = new PolicyEvaluator(Policy.Compile(migrated));
        foreach (var (tool, args) in new[] { ("refund", """{"reason": "x", "amount": 5}"""), ("refund", """{"amount": 5}"""), ("refund", """{"reason": "x", "amount": 10001}"""), ("drop", "{}"), ("other", "{}") })
        {
            var element = JsonDocument.Parse(args).RootElement;
            var a = before.Evaluate(new PolicyIdentity("alice"), tool, element);
            var b = after.Evaluate(new PolicyIdentity("alice"), tool, element);
            Assert.Equal((a.Kind, a.Rule, a.Reason), (b.Kind, b.Rule, b.Reason));
        }
    }

    [Fact]
    public async Task Migrate_InvalidPolicy_ExitsOneWithEveryProblem()
    {
        var path = CliRunner.TempFile("""{ "version": "1", "tools": { "a": { "require": [ { "path": "args.n", "op": "lte" } ] } }, "extra": 1 }""");

        var (code, stdout, _) = await CliRunner.RunAsync("", "migrate", path);

        Assert.Equal(1, code);
        var pointers = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("pointer").GetString()).ToList();
        Assert.Contains("", pointers);
        Assert.Contains("/extra", pointers);
        Assert.Contains("/tools/a/require/0", pointers);
    }

    [Fact]
    public async Task Migrate_NoFile_IsAUsageError()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "migrate");

        Assert.Equal(2, code);
        Assert.Contains("FILE", stderr, StringComparison.Ordinal);
    }
}
