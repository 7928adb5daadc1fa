using System.CommandLine;
using PolicyEngine.Evaluation;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine explain --policy FILE [--format json|intercept] [--call JSON] [--json]</c>: for one call (from
/// <c>--call</c> or the first line of stdin), which rules are checked in order and why each passes or fails, then
/// the decision a fresh evaluator makes.
/// </summary>
internal sealed class ExplainCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var policy = CliOptions.Policy();
        var format = CliOptions.Format();
        var call = new Option<string?>("--call")
        {
            Description = "The call, as one eval input line (the first non-blank line of standard input when omitted)",
            HelpName = "JSON",
        };
        var json = new Option<bool>("--json") { Description = "Print JSON lines ({\"rule\", \"passed\", \"detail\"}, then the decision)" };
        var command = new Command("explain", "Show, for one call, every rule checked in order and why it passed or failed, then the decision")
        {
            policy,
            format,
            call,
            json,
        };
        cli.SetAction(command, parseResult => RunAsync(cli, parseResult.GetValue(policy)!, parseResult.GetValue(format)!, parseResult.GetValue(call), parseResult.GetValue(json)));
        return command;
    }

    private static async Task<int> RunAsync(CliContext cli, string policyPath, string format, string? line, bool json)
    {
        var document = PolicySource.Read(policyPath, format, out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(cli.Stderr, errors).ConfigureAwait(false);
            return ExitCodes.Failure;
        }

        while (line is null && await cli.Stdin.ReadLineAsync().ConfigureAwait(false) is { } read)
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
            throw new UsageException("the call: " + ex.Message);
        }

        foreach (var key in call.IgnoredKeys)
        {
            await cli.Stderr.WriteLineAsync($"policyengine explain: unknown key \"{key}\" ignored (a call line has {CallLine.KnownKeys})").ConfigureAwait(false);
        }

        var policy = Policy.Compile(document);
        var clock = new VirtualClock();
        if (call.At is { } at)
        {
            clock.Set(at);
        }

        var steps = PolicyExplainer.Explain(policy, call.Identity, call.Tool, call.Args);
        var decision = new PolicyEvaluator(policy, timeProvider: clock).Evaluate(call.Identity, call.Tool, call.Args);
        foreach (var step in steps)
        {
            await cli.Stdout.WriteLineAsync(json
                ? JsonLines.Object(w =>
                {
                    w.WriteString("rule", step.Rule);
                    w.WriteBoolean("passed", step.Passed);
                    w.WriteString("detail", step.Detail);
                })
                : $"{(step.Passed ? "pass" : "FAIL"),-5} {step.Rule,-40} {step.Detail}").ConfigureAwait(false);
        }

        var output = format == "intercept"
            ? DecisionJson.Write(decision, Intercept.InterceptPolicy.Message(decision, call.Tool))
            : DecisionJson.Write(decision);
        await cli.Stdout.WriteLineAsync(json ? output : $"=> {output}").ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
