namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine explain --policy FILE [--format json|intercept] [--call JSON] [--json]</c>: for one call (from
/// <c>--call</c> or the first line of stdin), which rules are checked in order and why each passes or fails, then
/// the decision a fresh evaluator makes.
/// </summary>
internal sealed class ExplainCommand : ICommand
{
    public string Name => "explain";

    public string Usage => "explain --policy FILE [--format json|intercept] [--call JSON] [--json]";

    public string Summary => "show, for one call, every rule checked in order and why it passed or failed";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool>
    {
        ["--policy"] = true,
        ["--format"] = true,
        ["--call"] = true,
        ["--json"] = false,
    };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var policyPath = arguments.Option("--policy") ?? throw new UsageException("missing --policy FILE");
        var document = PolicySource.Read(policyPath, arguments.Option("--format"), out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(stderr, errors).ConfigureAwait(false);

            return 1;
        }

        var line = arguments.Option("--call");
        while (line is null && await stdin.ReadLineAsync().ConfigureAwait(false) is { } read)
        {
            line = string.IsNullOrWhiteSpace(read) ? null : read;
        }

        if (line is null)
        {
            throw new UsageException("no call given: pass --call '{\"identity\": ..., \"tool\": ..., \"args\": {...}}' or one line on stdin");
        }

        CallLine call;
        try
        {
            call = CallLine.Parse(line);
        }
        catch (FormatException ex)
        {
            throw new UsageException(ex.Message);
        }

        foreach (var key in call.IgnoredKeys)
        {
            await stderr.WriteLineAsync($"policyengine explain: unknown key \"{key}\" ignored (a call line has {CallLine.KnownKeys})").ConfigureAwait(false);
        }

        var policy = Policy.Compile(document);
        var clock = new VirtualClock();
        if (call.At is { } at)
        {
            clock.Set(at);
        }

        var steps = PolicyExplainer.Explain(policy, call.Identity, call.Tool, call.Args);
        var decision = new PolicyEvaluator(policy, timeProvider: clock).Evaluate(call.Identity, call.Tool, call.Args);
        var json = arguments.Flag("--json");
        foreach (var step in steps)
        {
            await stdout.WriteLineAsync(json
                ? JsonLines.Object(w =>
                {
                    w.WriteString("rule", step.Rule);
                    w.WriteBoolean("passed", step.Passed);
                    w.WriteString("detail", step.Detail);
                })
                : $"{(step.Passed ? "pass" : "FAIL"),-5} {step.Rule,-40} {step.Detail}").ConfigureAwait(false);
        }

        var output = arguments.Option("--format") == "intercept"
            ? DecisionJson.Write(decision, Intercept.InterceptPolicy.Message(decision, call.Tool))
            : DecisionJson.Write(decision);
        await stdout.WriteLineAsync(json ? output : $"=> {output}").ConfigureAwait(false);
        return 0;
    }
}
