using System.Text.Json;

namespace PolicyEngine.Cli.Tests;

/// <summary>
/// The conventions every command follows: help on the tool and on each command, <c>--version</c>, and one set of exit
/// codes (0 ok, 1 policy/test failure, 2 usage error or unreadable input).
/// </summary>
public class ConventionTests
{
    private static readonly string[] CommandNames = ["validate", "eval", "explain", "migrate", "import", "test", "diff", "init", "lint", "audit", "approvals"];

    public static TheoryData<string> Commands() => new(CommandNames);

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommand_HelpOption_PrintsItsUsageAndExitsZero(string command)
    {
        foreach (var help in new[] { "--help", "-h" })
        {
            var (code, stdout, stderr) = await CliRunner.RunAsync("", command, help);

            Assert.Equal(0, code);
            Assert.Equal("", stderr);
            Assert.Contains($"policyengine {command}", stdout, StringComparison.Ordinal);
            Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        }

        // "help COMMAND" prints the same text.
        var viaHelp = await CliRunner.RunAsync("", "help", command);
        Assert.Equal((0, (await CliRunner.RunAsync("", command, "--help")).Stdout), (viaHelp.ExitCode, viaHelp.Stdout));
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task EveryCommand_UnknownOption_IsAUsageError(string command)
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", command, "--no-such-option");

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("--no-such-option", stderr, StringComparison.Ordinal);
        Assert.Contains($"Run 'policyengine {command} --help' for usage.", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate", "/nonexistent/p.json")]
    [InlineData("migrate", "/nonexistent/p.json")]
    [InlineData("import", "/nonexistent/p.yaml")]
    [InlineData("test", "/nonexistent/")]
    [InlineData("eval", "--policy", "/nonexistent/p.json")]
    [InlineData("explain", "--policy", "/nonexistent/p.json", "--call", "{}")]
    [InlineData("diff", "/nonexistent/a.json", "/nonexistent/b.json")]
    [InlineData("lint", "/nonexistent/p.json")]
    [InlineData("audit", "verify", "/nonexistent/audit.jsonl")]
    [InlineData("init", "--from-tools", "/nonexistent/tools.json")]
    [InlineData("approvals", "list", "--store", "/nonexistent/approvals.db")]
    public async Task EveryCommand_UnreadableInput_ExitsTwoNamingTheFile(params string[] args)
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", args);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Contains("cannot read \"/nonexistent/", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate")]
    [InlineData("migrate")]
    [InlineData("eval", "--policy")]
    [InlineData("explain", "--policy")]
    [InlineData("diff", "", "")]
    [InlineData("lint")]
    public async Task EveryCommand_InvalidPolicy_ExitsOne(params string[] args)
    {
        var invalid = CliRunner.TempFile("""{ "version": "2", "default": "maybe" }""");
        var argv = args.Select(a => a.Length == 0 ? invalid : a).ToList();
        if (args.Length < 3)
        {
            argv.Add(invalid);
        }

        if (args[0] == "explain")
        {
            argv.AddRange(["--call", """{"identity": "a", "tool": "t"}"""]);
        }

        var (code, _, _) = await CliRunner.RunAsync("", [.. argv]);

        Assert.Equal(1, code);
    }

    [Fact]
    public async Task Version_PrintsThePackageVersion()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", "--version");

        Assert.Equal((0, ""), (code, stderr));
        Assert.Matches(@"^\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?\r?\n$", stdout);
        Assert.StartsWith(typeof(CommandLine).Assembly.GetName().Version!.ToString(3), stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsEveryCommand()
    {
        var (code, stdout, _) = await CliRunner.RunAsync("", "--help");

        Assert.Equal(0, code);
        foreach (var command in CommandNames)
        {
            Assert.Contains($"  {command}", stdout, StringComparison.Ordinal);
        }

        Assert.Contains("--version", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoArguments_PrintsTheOverviewOnStderrAndExitsTwo()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("");

        Assert.Equal((2, ""), (code, stdout));
        Assert.Contains("validate", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_NamedOnce()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "frobnicate");

        Assert.Equal(2, code);
        Assert.Equal("policyengine: unknown command \"frobnicate\"\nRun 'policyengine --help' for the list of commands.\n", stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HelpOfAnUnknownCommand_IsAUsageError()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "help", "frobnicate");

        Assert.Equal(2, code);
        Assert.Contains("unknown command \"frobnicate\"", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingArgument_NamesIt()
    {
        var (code, _, stderr) = await CliRunner.RunAsync("", "diff", "only-one.json");

        Assert.Equal(2, code);
        Assert.StartsWith("policyengine diff: missing NEW\n", stderr.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_ErrorLines_NameTheOneBasedInputLineInOurWords()
    {
        var policy = CliRunner.TempFile("""{ "version": "2", "default": "allow" }""");

        var (code, stdout, _) = await CliRunner.RunAsync(
            "{\"identity\": \"a\", \"tool\": \"t\"}\n\n{\"identity\": \"a\", \"tool\": \"t\"\n{\"tool\": \"t\", \"args\": {}}\n{\"identity\": null, \"tool\": \"t\"}\n",
            "eval",
            "--policy",
            policy);

        Assert.Equal(0, code);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Equal("allow", lines[0].GetProperty("decision").GetString());

        // Line 3 (the blank line 2 counts): unterminated object. Our words, with a 1-based position, not
        // System.Text.Json's "LineNumber: 0 | BytePositionInLine".
        var broken = lines[1].GetProperty("error").GetString()!;
        Assert.StartsWith("line 3: not valid JSON at character ", broken, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", broken, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", broken, StringComparison.Ordinal);

        // A missing or null identity is an error line, never an anonymous caller.
        Assert.StartsWith("line 4: \"identity\" is required", lines[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("line 5: \"identity\" is required", lines[3].GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_MissingPath_ExitsTwoLikeValidate()
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", "test", "nothing/");

        Assert.Equal((2, ""), (code, stdout));
        Assert.Equal("policyengine test: cannot read \"nothing/\": no such file or directory\n", stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
    }
}
