namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine migrate FILE</c>: rewrites a policy as a document of the latest version with the same meaning
/// (<see cref="PolicyDocument.MigrateToLatest"/>) and prints its JSON; exit 1 with one <c>{"pointer", "message"}</c>
/// line per problem (as <c>validate</c>) when the file is not a valid policy.
/// </summary>
internal sealed class MigrateCommand : ICommand
{
    public string Name => "migrate";

    public string Usage => "migrate FILE [--format json|intercept]";

    public string Summary => "rewrite a policy as a version 2 document with the same meaning and print its JSON";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool> { ["--format"] = true };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var path = arguments.RequirePositional(0, "the policy FILE");
        if (arguments.Positional.Count > 1)
        {
            throw new UsageException("migrate takes one FILE");
        }

        var document = PolicySource.Read(path, arguments.Option("--format"), out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(stdout, errors).ConfigureAwait(false);

            return 1;
        }

        await stdout.WriteLineAsync(document.MigrateToLatest().ToJson()).ConfigureAwait(false);
        return 0;
    }
}
