using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine validate FILE [--format json|intercept]</c>: exit 0 when valid; exit 1 with one
/// <c>{"pointer": "...", "message": "..."}</c> object per line on stdout when not.
/// </summary>
internal sealed class ValidateCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var file = CliOptions.File("FILE", "The policy file to check");
        var format = CliOptions.Format();
        var command = new Command("validate", "Check a policy; print one {\"pointer\", \"message\"} JSON line per problem (exit 1 when invalid)")
        {
            file,
            format,
        };
        cli.SetAction(command, async parseResult =>
        {
            var document = PolicySource.Read(parseResult.GetValue(file)!, parseResult.GetValue(format), out var errors, schemaCheck: true);
            if (document is not null)
            {
                return ExitCodes.Ok;
            }

            await JsonLines.WriteErrorsAsync(cli.Stdout, errors).ConfigureAwait(false);
            return ExitCodes.Failure;
        });
        return command;
    }
}
