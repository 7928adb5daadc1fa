namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine eval --policy FILE [--format json|intercept] [--input CALLS.jsonl]</c>: one decision per input
/// line, in order, with one evaluator and one in-memory store for the whole run (DESIGN.md §6).
/// </summary>
internal sealed class EvalCommand : ICommand
{
    public string Name => "eval";

    public string Usage => "eval --policy FILE [--format json|intercept] [--input CALLS.jsonl]";

    public string Summary => "evaluate one call per input line (stdin by default); print one decision per line";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool>
    {
        ["--policy"] = true,
        ["--format"] = true,
        ["--input"] = true,
    };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var policyPath = arguments.Option("--policy") ?? throw new UsageException("missing --policy FILE");
        if (arguments.Positional.Count > 0)
        {
            throw new UsageException($"unexpected argument \"{arguments.Positional[0]}\"");
        }

        var document = PolicySource.Read(policyPath, arguments.Option("--format"), out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(stderr, errors).ConfigureAwait(false);

            return 1;
        }

        // Intercept's texts for a hidden tool and a default deny name the tool; the evaluator's prebuilt ones do not.
        var intercept = arguments.Option("--format") == "intercept";
        var clock = new VirtualClock();
        var evaluator = new PolicyEvaluator(Policy.Compile(document), new InMemoryCounterStore(), new InMemoryApprovalStore(clock), clock);
        var input = arguments.Option("--input") is { } inputPath ? OpenInput(inputPath) : stdin;
        try
        {
            var number = 0;
            while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                number++;
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                await stdout.WriteLineAsync(EvaluateLine(evaluator, clock, line, intercept, out var ignored)).ConfigureAwait(false);
                foreach (var key in ignored)
                {
                    await stderr.WriteLineAsync($"policyengine eval: line {number}: unknown key \"{key}\" ignored (a call line has {CallLine.KnownKeys})").ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!ReferenceEquals(input, stdin))
            {
                input.Dispose();
            }
        }

        await stdout.FlushAsync().ConfigureAwait(false);
        return 0;
    }

    private static TextReader OpenInput(string path)
    {
        try
        {
            return new StreamReader(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot read \"{path}\": {ex.Message}");
        }
    }

    internal static string EvaluateLine(PolicyEvaluator evaluator, VirtualClock clock, string line, bool intercept, out IReadOnlyList<string> ignoredKeys)
    {
        CallLine call;
        ignoredKeys = [];
        try
        {
            call = CallLine.Parse(line);
        }
        catch (FormatException ex)
        {
            return JsonLines.Object(w => w.WriteString("error", ex.Message));
        }

        ignoredKeys = call.IgnoredKeys;

        if (call.At is { } at)
        {
            clock.Set(at);
        }

        var decision = evaluator.Evaluate(call.Identity, call.Tool, call.Args);
        if (call.Approve && decision.Kind == DecisionKind.NeedsApproval && decision.Approval is { } request)
        {
            evaluator.Approve(request);
            decision = evaluator.Evaluate(call.Identity, call.Tool, call.Args);
        }

        var output = DecisionJson.Write(decision, intercept ? Intercept.InterceptPolicy.Message(decision, call.Tool) : decision.Reason);
        evaluator.Complete(decision, succeeded: !call.Failed);
        return output;
    }
}
