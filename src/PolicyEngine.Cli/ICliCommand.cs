using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>
/// One <c>policyengine</c> command. Each lives in its own file under <c>Commands/</c> and is registered with one line
/// in <see cref="CommandLine.Commands"/>.
/// </summary>
internal interface ICliCommand
{
    /// <summary>
    /// Builds the command: its arguments and options (each with a description, for <c>--help</c>) and its action,
    /// set with <see cref="CliContext.SetAction"/> so that exit codes and usage errors are handled alike everywhere.
    /// </summary>
    /// <param name="cli">The streams the command reads and writes.</param>
    Command Create(CliContext cli);
}
