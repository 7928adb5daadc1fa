namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine import FILE.yaml</c>: converts an Intercept policy to a version 2 document and prints its JSON;
/// exit 1 with one <c>{"pointer", "message"}</c> line per problem (as <c>validate</c>) when it cannot.
/// </summary>
internal sealed class ImportCommand : ICommand
{
    public string Name => "import";

    public string Usage => "import FILE.yaml [--per-identity]";

    public string Summary => "convert an Intercept YAML policy to a version 2 JSON document (--per-identity: counters per caller)";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool> { ["--per-identity"] = false };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var path = arguments.RequirePositional(0, "the Intercept policy FILE");
        if (arguments.Positional.Count > 1)
        {
            throw new UsageException("import takes one FILE");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot read \"{path}\": {ex.Message}");
        }

        var options = new Intercept.InterceptImportOptions { PerIdentityCounters = arguments.Flag("--per-identity") };
        var document = PolicySource.ReadIntercept(bytes, out var errors, options);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(stdout, errors).ConfigureAwait(false);

            return 1;
        }

        await stdout.WriteLineAsync(document.ToJson()).ConfigureAwait(false);
        return 0;
    }
}
