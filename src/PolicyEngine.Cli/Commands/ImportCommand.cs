using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine import FILE.yaml [--per-identity]</c>: converts an Intercept policy to a version 2 document and
/// prints its JSON; exit 1 with one <c>{"pointer", "message"}</c> line per problem (as <c>validate</c>) when it cannot.
/// </summary>
internal sealed class ImportCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var file = CliOptions.File("FILE", "The Intercept policy (YAML)");
        var perIdentity = new Option<bool>("--per-identity")
        {
            Description = "Key every imported counter by the caller's identity (Intercept's counters are global)",
        };
        var command = new Command("import", "Convert an Intercept YAML policy to a version 2 JSON document and print it")
        {
            file,
            perIdentity,
        };
        cli.SetAction(command, async parseResult =>
        {
            var path = parseResult.GetValue(file)!;
            var options = new Intercept.InterceptImportOptions { PerIdentityCounters = parseResult.GetValue(perIdentity) };
            var document = PolicySource.ReadIntercept(PolicySource.ReadBytes(path), out var errors, options);
            if (document is null)
            {
                await JsonLines.WriteErrorsAsync(cli.Stdout, errors).ConfigureAwait(false);
                return ExitCodes.Failure;
            }

            await cli.Stdout.WriteLineAsync(document.ToJson()).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
