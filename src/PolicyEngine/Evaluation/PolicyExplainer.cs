using System.Text.Json;
using PolicyEngine.Compilation;

namespace PolicyEngine;

/// <summary>
/// Walks the same compiled rules as the evaluator for one call, but checks every rule instead of stopping at the
/// first denial, and says for each why it passed or failed. Limits and approvals are described, not charged.
/// </summary>
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
        var hidden = policy.IsHidden(tool);
        steps.Add(new ExplainStep(BuiltInRules.Hidden, !hidden, hidden ? $"\"{tool}\" is hidden by \"hide\"" : $"\"{tool}\" is not hidden"));

        var rules = policy.Find(tool);
        if (rules is null)
        {
            var allowed = policy.Default == DefaultAction.Allow;
            steps.Add(new ExplainStep(
                allowed ? BuiltInRules.DefaultAllow : BuiltInRules.DefaultDeny,
                allowed,
                $"no entry under \"tools\" matches \"{tool}\"; the default is {(allowed ? "allow" : "deny")}"));
        }
        else
        {
            steps.Add(new ExplainStep(rules.Pointer, true, $"\"{tool}\" matches the entry \"{rules.Name}\"{(rules.Name == tool ? string.Empty : " (a glob)")}"));
        }

        if (args.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            steps.Add(new ExplainStep(BuiltInRules.InvalidArguments, false, $"the arguments are {args.ValueKind}, not an object"));
            return steps;
        }

        var context = new EvaluationContext(args, null, identity);
        if (rules is not null)
        {
            Describe(rules, context, steps);
        }

        if (policy.AllTools is { } allTools)
        {
            Describe(allTools, context, steps);
        }

        return steps;
    }

    private static void Describe(CompiledRules rules, in EvaluationContext context, List<ExplainStep> steps)
    {
        if (rules.ActionDenial is { } denial)
        {
            steps.Add(new ExplainStep(rules.Pointer, false, $"\"action\": \"deny\" — {denial.Reason}"));
        }

        if (rules.ArgsSchema is { } schema)
        {
            var element = context.Args.ValueKind == JsonValueKind.Object ? context.Args : PolicyEvaluator.EmptyObject;
            var valid = schema.Evaluate(element).IsValid;
            steps.Add(new ExplainStep(rules.Pointer + "/args_schema", valid, valid ? "the arguments match the schema" : "the arguments do not match the schema"));
        }

        foreach (var check in rules.Checks)
        {
            var ambiguous = false;
            bool holds;
            string? failure = null;
            try
            {
                holds = check.Predicate.Holds(context, ref ambiguous);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                holds = !check.IsRequire;
                failure = ex.Message;
            }

            var passed = holds == check.IsRequire && !ambiguous && failure is null;
            var what = check.IsRequire ? "require" : "deny_if";
            var found = failure is not null ? $"could not be evaluated ({failure})"
                : ambiguous ? check.Predicate.Undecided(context) ?? "an argument on its path appears twice"
                : holds ? "holds" : "does not hold";
            var effect = passed ? "passes" : $"denies: {check.Denial.Reason}";
            steps.Add(new ExplainStep(check.Pointer, passed, $"{what} {check.Predicate.Describe()} — {found}, so it {effect}"));
        }

        foreach (var limit in rules.Limits)
        {
            var rule = limit.Rule;
            var cost = rule.CostFrom is not null ? $"cost from {rule.CostFrom}" : $"cost {rule.Cost}";
            steps.Add(new ExplainStep(
                limit.Pointer,
                true,
                $"limit \"{rule.Counter}\": at most {rule.Max} per {rule.Window} ({rule.Algorithm.ToString().ToLowerInvariant()}), scope {rule.Scope}, {cost}; reserved only when every other check passes"));
        }

        if (rules.Approval is { } approval)
        {
            var needed = true;
            foreach (var predicate in approval.When)
            {
                var ambiguous = false;
                needed &= predicate.Holds(context, ref ambiguous) || ambiguous;
            }

            steps.Add(new ExplainStep(
                approval.Pointer,
                !needed,
                needed ? $"approval needed: {approval.Reason}{WhoApproves(approval)}" : "approval not needed: a \"when\" predicate does not hold"));
        }
    }

    /// <summary>Who may approve, for the explanation: the approvers' predicates and how many must agree.</summary>
    private static string WhoApproves(CompiledApproval approval)
    {
        if (approval.Approvers is not { } approvers)
        {
            return " (no approvers named: the host or, by elicitation, the caller confirms)";
        }

        var who = string.Join(" and ", approvers.Select(p => p.Describe()));
        var count = approval.MinApprovers == 1 ? "one approver" : $"{approval.MinApprovers} distinct approvers";
        return $" ({count} for whom {who}; never the caller)";
    }
}
