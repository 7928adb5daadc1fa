using System.CommandLine;
using PolicyEngine.Evaluation;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine eval --policy FILE [--format json|intercept] [--input CALLS.jsonl]</c>: one decision per input
/// line, in order, with one evaluator and one in-memory store for the whole run (DESIGN.md §6).
/// </summary>
internal sealed class EvalCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var policy = CliOptions.Policy();
        var format = CliOptions.Format();
        var input = new Option<string?>("--input")
        {
            Description = "The calls, one JSON object per line (standard input when omitted)",
            HelpName = "CALLS.jsonl",
        };
        var command = new Command(
            "eval",
            "Evaluate one call per input line and print one decision per line. A call: {\"identity\": \"alice\" | {\"id\": ..., attributes...}, " +
            "\"tool\": \"t\", \"args\": {...}, \"at\"?: \"2026-01-01T00:00:00Z\", \"outcome\"?: \"ok\" | \"error\", \"approve\"?: true}")
        {
            policy,
            format,
            input,
        };
        cli.SetAction(command, parseResult => RunAsync(cli, parseResult.GetValue(policy)!, parseResult.GetValue(format)!, parseResult.GetValue(input)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext cli, string policyPath, string format, string? inputPath)
    {
        var document = PolicySource.Read(policyPath, format, out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(cli.Stderr, errors).ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        // Intercept's texts for a hidden tool and a default deny name the tool; the evaluator's prebuilt ones do not.
        var intercept = format == "intercept";
        var clock = new VirtualClock();
        var evaluator = new PolicyEvaluator(Policy.Compile(document), new InMemoryCounterStore(), new InMemoryApprovalStore(), clock);
        var input = inputPath is not null ? OpenInput(inputPath) : cli.Stdin;
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

                await cli.Stdout.WriteLineAsync(EvaluateLine(evaluator, clock, line, number, intercept, out var ignored)).ConfigureAwait(false);
                foreach (var key in ignored)
                {
                    await cli.Stderr.WriteLineAsync($"policyengine eval: line {number}: unknown key \"{key}\" ignored (a call line has {CallLine.KnownKeys})").ConfigureAwait(false);
                }
            }
        }
        finally
        {
            if (!ReferenceEquals(input, cli.Stdin))
            {
                input.Dispose();
            }
        }

        await cli.Stdout.FlushAsync().ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static StreamReader OpenInput(string path)
    {
        try
        {
            return new StreamReader(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new UsageException($"cannot read \"{path}\": {PolicySource.Describe(path, ex)}");
        }
    }

    /// <summary>The output line for input line number <paramref name="number"/> (1-based): a decision, or <c>{"error"}</c>.</summary>
    internal static string EvaluateLine(PolicyEvaluator evaluator, VirtualClock clock, string line, int number, bool intercept, out IReadOnlyList<string> ignoredKeys)
    {
        CallLine call;
        ignoredKeys = [];
        try
        {
            call = CallLine.Parse(line);
        }
        catch (FormatException ex)
        {
            return JsonLines.Object(w => w.WriteString("error", $"line {number}: {ex.Message}"));
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
