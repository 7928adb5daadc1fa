using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine migrate FILE</c>: rewrites a policy as a document of the latest version with the same meaning
/// (<see cref="PolicyDocument.MigrateToLatest"/>) and prints its JSON; exit 1 with one <c>{"pointer", "message"}</c>
/// line per problem (as <c>validate</c>) when the file is not a valid policy.
/// </summary>
internal sealed class MigrateCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var file = CliOptions.File("FILE", "The policy file (version 1 or 2)");
        var format = CliOptions.Format();
        var command = new Command("migrate", "Rewrite a policy as a version 2 document with the same meaning and print its JSON")
        {
            file,
            format,
        };
        cli.SetAction(command, async parseResult =>
        {
            var document = PolicySource.Read(parseResult.GetValue(file)!, parseResult.GetValue(format), out var errors);
            if (document is null)
            {
                await JsonLines.WriteErrorsAsync(cli.Stdout, errors).ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            await cli.Stdout.WriteLineAsync(document.MigrateToLatest().ToJson()).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
