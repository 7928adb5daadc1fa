using System.Text;
using PolicyEngine.Decisions;
using PolicyEngine.Evaluation;

namespace PolicyEngine.Testing;

/// <summary>Runs calls through a fresh evaluator on a virtual clock, and words decisions for reports.</summary>
internal static class Scenario
{
    /// <summary>
    /// Evaluates the calls in order with one fresh evaluator and in-memory store; each call's <see cref="PolicyCall.At"/>
    /// (or <see cref="PolicyGen.Epoch"/>) is the clock; every allowed call completes successfully.
    /// </summary>
    public static Decision[] Run(Policy policy, IReadOnlyList<PolicyCall> calls)
    {
        var clock = new VirtualClock(PolicyGen.Epoch);
        var evaluator = new PolicyEvaluator(policy, timeProvider: clock);
        var decisions = new Decision[calls.Count];
        for (var i = 0; i < calls.Count; i++)
        {
            var call = calls[i];
            if (call.At is { } at)
            {
                clock.Set(at);
            }

            var decision = evaluator.Evaluate(call.Identity, call.Tool, call.Args);
            if (decision.IsAllowed)
            {
                evaluator.Complete(decision, succeeded: true);
            }

            decisions[i] = decision;
        }

        return decisions;
    }

    /// <summary>The decision's kind in the CLI's spelling: allow, deny, rate_limited, needs_approval.</summary>
    public static string KindName(DecisionKind kind) => DecisionKindNames.Of(kind);

    /// <summary>For example <c>deny by /tools/x/deny_if/0 ("Too large")</c>.</summary>
    public static string Describe(Decision decision)
    {
        var text = new StringBuilder(KindName(decision.Kind));
        if (decision.Rule is not null)
        {
            text.Append(" by ").Append(decision.Rule);
        }

        if (decision.Reason is not null)
        {
            text.Append(" (").Append(JsonText.Quote(decision.Reason)).Append(')');
        }

        return text.ToString();
    }

    /// <summary>How restrictive a decision is: allow &lt; needs approval &lt; rate-limited or denied.</summary>
    public static int Strictness(DecisionKind kind) => kind switch
    {
        DecisionKind.Allow => 0,
        DecisionKind.NeedsApproval => 1,
        _ => 2,
    };

    /// <summary>A numbered list of calls, one per line, each with what was decided when known.</summary>
    public static string Listing(IReadOnlyList<PolicyCall> calls, IReadOnlyList<string>? outcomes = null)
    {
        var text = new StringBuilder();
        for (var i = 0; i < calls.Count; i++)
        {
            text.Append("  ").Append(i + 1).Append(". ").Append(calls[i]);
            if (outcomes is not null && i < outcomes.Count)
            {
                text.Append(" → ").Append(outcomes[i]);
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
