using System.Text.Json;

namespace PolicyEngine;

/// <summary>
/// Explains how a policy treats one call, rule by rule. The explanation is the evaluator's own walk run with a
/// recorder, so it cannot disagree with <see cref="PolicyEvaluator.Evaluate(PolicyIdentity, string, JsonElement)"/>:
/// the first step that did not pass is the rule a fresh evaluator's decision names (none for an allow).
/// </summary>
/// <remarks>
/// Unlike the evaluator, the walk does not stop at the first denial: it describes every rule in evaluation order
/// (hide, the entry or the default, the arguments, the entry's then <c>all_tools</c>' action, <c>args_schema</c>,
/// <c>require</c> and <c>deny_if</c>, then limits, then approval). Limits are planned (a missing scope argument or a
/// bad cost fails) but not charged; counters already spent are not consulted.
/// </remarks>
public static class PolicyExplainer
{
    /// <summary>Explains how <paramref name="policy"/> treats one call, rule by rule, in evaluation order.</summary>
    /// <param name="policy">The compiled policy.</param>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The arguments.</param>
    /// <returns>The rules checked, in order.</returns>
    public static IReadOnlyList<ExplainStep> Explain(Policy policy, PolicyIdentity identity, string tool, JsonElement args)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        var steps = new List<ExplainStep>();
        try
        {
            PolicyEvaluator.Explain(policy, identity, tool, args, steps);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Where the evaluator denies arguments it cannot read (hostile escapes, a disposed document), so does this.
            steps.Add(new ExplainStep(BuiltInRules.InvalidArguments, false, $"{policy.UnreadableArguments.Reason} ({ex.Message})"));
        }

        return steps;
    }
}
