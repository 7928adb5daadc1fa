using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;
using PolicyEngine.Documents;
using PolicyEngine.Evaluation;
using PolicyEngine.Json;
using PolicyEngine.Json.Numbers;
using PolicyEngine.Counters;

namespace PolicyEngine;

// The evaluator, limits planned into counter requests: the scope's key, the cost, and the denials planning can reach.
public sealed partial class PolicyEvaluator
{
    /// <summary>Builds the counter requests of a list of limits; returns a denial for a missing scope or a bad cost.</summary>
    private static Verdict? PlanLimits<TRecorder>(
        CompiledLimit[] limits,
        in EvaluationContext context,
        string tool,
        Policy policy,
        CounterRequest[] requests,
        ref int index,
        bool deferGrantKey,
        ref TRecorder recorder)
        where TRecorder : struct, IWalkRecorder
    {
        Verdict? first = null;
        foreach (var limit in limits)
        {
            // Planned in place: the request is written into its slot, not copied there (it is five words).
            if (PlanLimit(limit, context, tool, policy, deferGrantKey, out requests[index]) is { } denial)
            {
                if (recorder.Recording)
                {
                    recorder.Limit(limit, denial);
                    first ??= denial;
                    continue;
                }

                return denial;
            }

            if (recorder.Recording)
            {
                recorder.Limit(limit, null);
            }

            index++;
        }

        return first;
    }

    /// <summary>One limit's counter request; a denial for a missing or ambiguous scope, a bad cost, or a cost over max.</summary>
    private static Verdict? PlanLimit(CompiledLimit limit, in EvaluationContext context, string tool, Policy policy, bool deferGrantKey, out CounterRequest request)
    {
        request = default;
        var rule = limit.Rule;
        string key;
        switch (rule.ScopeKind)
        {
            case LimitScopeKind.Grant:
                // The in-memory store's grant path needs no key (null here); every other path counts by key.
                key = deferGrantKey ? null! : GrantKey(limit, context.Identity);
                break;
            case LimitScopeKind.Global:
                key = limit.GlobalKey;
                break;
            case LimitScopeKind.Tool:
                if (!limit.ToolKeys.TryGetValue(tool, out var toolKey))
                {
                    toolKey = CounterKeys.Build(limit.Prefix, 't', tool);
                    if (limit.ToolKeys.Count < 10_000)
                    {
                        limit.ToolKeys.TryAdd(tool, toolKey);
                    }
                }

                key = toolKey;
                break;
            default:
                var found = limit.ScopePath!.Resolve(context, out var value);
                if (found != PathResult.Found)
                {
                    var why = found == PathResult.Ambiguous ? "appears more than once" : "is missing";
                    return new Verdict(DecisionKind.Deny, $"the argument {rule.Scope[5..]} {why}; the limit \"{rule.Counter}\" is counted per value of it", limit.Pointer, policy.Version);
                }

                if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && JsonValueComparer.IsDeeperThanMaxDepth(value))
                {
                    // Canonical JSON keeps text past that depth as written, so respelling it would open a new counter.
                    return new Verdict(DecisionKind.Deny, $"the argument {rule.Scope[5..]} is nested deeper than {JsonValueComparer.MaxDepth} levels; the limit \"{rule.Counter}\" is counted per value of it", limit.Pointer, policy.Version);
                }

                // Strings keep their text; other values their canonical JSON, tagged so "5" and 5 differ.
                key = value.ValueKind == JsonValueKind.String
                    ? CounterKeys.Build(limit.Prefix, 's', StringValue.GetChars(value, []))
                    : CounterKeys.Build(limit.Prefix, 'j', Encoding.UTF8.GetString(CanonicalJson.ToCanonicalBytes(value)));
                break;
        }

        long amount = rule.Cost;
        if (limit.CostPath is { } costPath)
        {
            var found = costPath.Resolve(context, out var value);
            if (found != PathResult.Found || !ExactNumber.IsNonNegativeInteger(value, out amount))
            {
                return new Verdict(
                    DecisionKind.Deny,
                    $"the argument {rule.CostFrom![5..]} must be a non-negative whole number (the amount charged to \"{rule.Counter}\")",
                    limit.Pointer,
                    policy.Version);
            }
        }

        if (amount > rule.Max)
        {
            return new Verdict(
                DecisionKind.Deny,
                $"this call costs {amount}, more than the limit \"{rule.Counter}\" allows in one window ({rule.Max}); it can never be admitted",
                limit.Pointer,
                policy.Version);
        }

        request = new CounterRequest(key, amount, rule.Max, rule.Window, rule.Algorithm);

        return null;
    }

    /// <summary>The key of <paramref name="identity"/>'s counter under a grant-scoped limit, kept on the identity once built.</summary>
    private static string GrantKey(CompiledLimit limit, PolicyIdentity identity)
    {
        if (identity.FindCounterKey(limit) is not { } key)
        {
            key = CounterKeys.Build(limit.Prefix, CounterKeys.Grant, identity.Id);
            identity.AddCounterKey(limit, key);
        }

        return key;
    }
}
