namespace PolicyEngine.Cli;

/// <summary>The <c>policyengine</c> command dispatcher: one entry per command, each testable with plain writers.</summary>
internal static class CommandLine
{
    /// <summary>Exit code for a usage error (unknown command, missing argument, unreadable file).</summary>
    public const int UsageError = 2;

    private static readonly ICommand[] Commands =
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
    ];

    public static async Task<int> RunAsync(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(args.Length == 0 ? stderr : stdout);
            return args.Length == 0 ? UsageError : 0;
        }

        foreach (var command in Commands)
        {
            if (command.Name == args[0])
            {
                CommandArguments parsed;
                try
                {
                    parsed = CommandArguments.Parse(args.AsSpan(1), command.Options);
                }
                catch (UsageException ex)
                {
                    await stderr.WriteLineAsync($"policyengine {command.Name}: {ex.Message}").ConfigureAwait(false);
                    await stderr.WriteLineAsync($"usage: policyengine {command.Usage}").ConfigureAwait(false);
                    return UsageError;
                }

                try
                {
                    return await command.RunAsync(parsed, stdin, stdout, stderr).ConfigureAwait(false);
                }
                catch (UsageException ex)
                {
                    await stderr.WriteLineAsync($"policyengine {command.Name}: {ex.Message}").ConfigureAwait(false);
                    return UsageError;
                }
            }
        }

        await stderr.WriteLineAsync($"policyengine: unknown command \"{args[0]}\"").ConfigureAwait(false);
        PrintHelp(stderr);
        return UsageError;
    }

    private static void PrintHelp(TextWriter writer)
    {
        writer.WriteLine("policyengine — validate, evaluate and explain PolicyEngine policies");
        writer.WriteLine();
        writer.WriteLine("commands:");
        foreach (var command in Commands)
        {
            writer.WriteLine($"  {command.Usage}");
            writer.WriteLine($"      {command.Summary}");
        }
    }
}
