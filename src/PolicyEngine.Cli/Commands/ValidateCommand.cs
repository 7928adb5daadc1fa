namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine validate FILE [--format json|intercept]</c>: exit 0 when valid; exit 1 with one
/// <c>{"pointer": "...", "message": "..."}</c> object per line on stdout when not.
/// </summary>
internal sealed class ValidateCommand : ICommand
{
    public string Name => "validate";

    public string Usage => "validate FILE [--format json|intercept]";

    public string Summary => "check a policy; print one {\"pointer\", \"message\"} JSON line per problem (exit 1 when invalid)";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool> { ["--format"] = true };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var path = arguments.RequirePositional(0, "the policy FILE");
        if (arguments.Positional.Count > 1)
        {
            throw new UsageException("validate takes one FILE");
        }

        var document = PolicySource.Read(path, arguments.Option("--format"), out var errors, schemaCheck: true);
        if (document is not null)
        {
            return 0;
        }

        await JsonLines.WriteErrorsAsync(stdout, errors).ConfigureAwait(false);

        return 1;
    }
}
