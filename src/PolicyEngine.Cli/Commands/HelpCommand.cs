using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary><c>policyengine help [COMMAND]</c>: the same text as <c>policyengine [COMMAND] --help</c>.</summary>
internal sealed class HelpCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var name = new Argument<string?>("COMMAND")
        {
            Description = "The command to describe (every command when omitted)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("help", "Show the help of the tool or of one command") { name };
        cli.SetAction(command, parseResult =>
        {
            var wanted = parseResult.GetValue(name);
            var root = CommandLine.CreateRoot(cli);
            if (wanted is not null && !root.Subcommands.Any(c => c.Name == wanted))
            {
                throw new UsageException($"unknown command \"{wanted}\"; run 'policyengine --help' for the list");
            }

            var invocation = new InvocationConfiguration { Output = cli.Stdout, Error = cli.Stderr, EnableDefaultExceptionHandler = false };
            return root.Parse(wanted is null ? ["--help"] : [wanted, "--help"]).InvokeAsync(invocation);
        });
        return command;
    }
}
