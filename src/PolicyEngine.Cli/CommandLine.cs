using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;

namespace PolicyEngine.Cli;

/// <summary>
/// The <c>policyengine</c> command line on System.CommandLine: <c>--help</c> on the tool and on every command,
/// <c>--version</c>, and one set of exit codes (<see cref="ExitCodes"/>) for every command.
/// </summary>
internal static class CommandLine
{
    /// <summary>Exit code for a usage error (unknown command, missing argument, unreadable file).</summary>
    public const int UsageError = ExitCodes.UsageError;

    /// <summary>Every command, in the order <c>--help</c> lists them. Adding a command: its file, and one line here.</summary>
    private static readonly ICliCommand[] Commands =
    [
        new ValidateCommand(),
        new EvalCommand(),
        new ExplainCommand(),
        new MigrateCommand(),
        new ImportCommand(),
        new TestCommand(),
        new DiffCommand(),
        new InitCommand(),
        new LintCommand(),
        new AuditCommand(),
        new ApprovalsCommand(),
        new HelpCommand(),
    ];

    /// <summary>The tool's version: the informational version of this assembly (the package version).</summary>
    public static string Version { get; } =
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CommandLine).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Parses and runs one command line; returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var cli = new CliContext(stdin, stdout, stderr);
        var root = CreateRoot(cli);
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        if (args.Length == 0)
        {
            // No command: the overview, on standard error, as a usage error.
            root.Parse(["--help"]).Invoke(new InvocationConfiguration { Output = stderr, Error = stderr, EnableDefaultExceptionHandler = false });
            return ExitCodes.UsageError;
        }

        var parseResult = root.Parse(args);
        if (parseResult.Action is ParseErrorAction)
        {
            await WriteParseErrorsAsync(parseResult, stderr).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        return await parseResult.InvokeAsync(invocation).ConfigureAwait(false);
    }

    /// <summary>Builds the command tree; <c>help COMMAND</c> uses it to print one command's help.</summary>
    internal static Command CreateRoot(CliContext cli)
    {
        var root = new Command("policyengine", "Validate, evaluate, explain, test and compare PolicyEngine policies.")
        {
            new HelpOption(),
            new VersionOption { Action = new PrintVersion(cli) },
        };
        foreach (var command in Commands)
        {
            root.Subcommands.Add(command.Create(cli));
        }

        return root;
    }

    private static async Task WriteParseErrorsAsync(ParseResult parseResult, TextWriter stderr)
    {
        var command = parseResult.CommandResult.Command;
        var isRoot = !command.Parents.Any();
        var name = isRoot ? "policyengine" : $"policyengine {command.Name}";
        if (isRoot && parseResult.UnmatchedTokens.Count > 0)
        {
            await stderr.WriteLineAsync($"policyengine: unknown command \"{parseResult.UnmatchedTokens[0]}\"").ConfigureAwait(false);
            await stderr.WriteLineAsync("Run 'policyengine --help' for the list of commands.").ConfigureAwait(false);
            return;
        }

        foreach (var error in parseResult.Errors)
        {
            await stderr.WriteLineAsync($"{name}: {Describe(parseResult, command, error)}").ConfigureAwait(false);
        }

        await stderr.WriteLineAsync($"Run '{name} --help' for usage.").ConfigureAwait(false);
    }

    /// <summary>A parse error on one line; a missing argument is named, as the usage line names it.</summary>
    private static string Describe(ParseResult parseResult, Command command, ParseError error)
    {
        if (error.Message.StartsWith("Required argument missing", StringComparison.Ordinal))
        {
            var missing = command.Arguments
                .Where(a => a.Arity.MinimumNumberOfValues > 0 && (parseResult.GetResult(a)?.Tokens.Count ?? 0) == 0)
                .Select(a => a.Name)
                .ToList();
            if (missing.Count > 0)
            {
                return "missing " + string.Join(" and ", missing);
            }
        }

        return string.Join(' ', error.Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary><c>--version</c>: the package version, on standard output.</summary>
    private sealed class PrintVersion(CliContext cli) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            cli.Stdout.WriteLine(Version);
            return ExitCodes.Ok;
        }
    }
}
