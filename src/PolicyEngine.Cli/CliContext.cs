using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>The streams a run of <c>policyengine</c> reads and writes (the console, or strings in tests).</summary>
internal sealed class CliContext(TextReader stdin, TextWriter stdout, TextWriter stderr)
{
    public TextReader Stdin { get; } = stdin;

    public TextWriter Stdout { get; } = stdout;

    public TextWriter Stderr { get; } = stderr;

    /// <summary>
    /// Sets <paramref name="command"/>'s action: a <see cref="UsageException"/> it throws (an unreadable file, a bad
    /// value) is printed as <c>policyengine COMMAND: message</c> on standard error with exit code
    /// <see cref="ExitCodes.UsageError"/>.
    /// </summary>
    public void SetAction(Command command, Func<ParseResult, Task<int>> action) =>
        command.SetAction(async (parseResult, _) =>
        {
            try
            {
                return await action(parseResult).ConfigureAwait(false);
            }
            catch (UsageException ex)
            {
                await Stderr.WriteLineAsync($"policyengine {command.Name}: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.UsageError;
            }
        });
}
