using System.Text.Json;

namespace PolicyEngine.Cli.Tests.Commands;

public class ValidateCommandTests
{
    [Fact]
    public async Task Validate_ValidPolicy_ExitsZeroAndPrintsNothing()
    {
        var path = CliRunner.TempFile("""{ "version": "1", "default": "deny", "tools": { "list_customers": {} } }""");

        var (code, stdout, _) = await CliRunner.RunAsync("", "validate", path);

        Assert.Equal(0, code);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Validate_InvalidPolicy_ExitsOneWithOneJsonObjectPerProblem()
    {
        var path = CliRunner.TempFile("""
            { "version": "2", "default": "maybe",
              "tools": { "x": { "require": [ { "path": "args.a", "opp": "eq", "value": 1 } ] } } }
            """);

        var (code, stdout, _) = await CliRunner.RunAsync("", "validate", path);

        Assert.Equal(1, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var errors = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(errors, e => Assert.Equal(["pointer", "message"], e.EnumerateObject().Select(p => p.Name)));
        var pointers = errors.Select(e => e.GetProperty("pointer").GetString()).ToList();
        Assert.Contains("/default", pointers);
        Assert.Contains("/tools/x/require/0/opp", pointers);
        Assert.Contains("/tools/x/require/0", pointers); // missing "op": the pointer names the object that lacks it
    }

    [Fact]
    public async Task Validate_NotJson_ExitsOneWithRootPointer()
    {
        var path = CliRunner.TempFile("{ \"version\": \"1\", // comment\n }");

        var (code, stdout, _) = await CliRunner.RunAsync("", "validate", path);

        Assert.Equal(1, code);
        var error = JsonDocument.Parse(stdout.Trim()).RootElement;
        Assert.Equal("", error.GetProperty("pointer").GetString());
        Assert.Contains("JSON", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Validate_MissingFile_ExitsTwoWithMessageOnStderr()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", "validate", "/nonexistent/policy.json");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("cannot read", stderr);
    }

    [Fact]
    public async Task Validate_UnknownFormat_ExitsTwo()
    {
        var path = CliRunner.TempFile("{}");

        var (code, _, stderr) = await CliRunner.RunAsync("", "validate", path, "--format", "toml");

        Assert.Equal(2, code);
        Assert.Contains("toml", stderr);
    }

    [Fact]
    public async Task Run_UnknownCommand_ExitsTwo()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("frobnicate", stderr);
    }
}
