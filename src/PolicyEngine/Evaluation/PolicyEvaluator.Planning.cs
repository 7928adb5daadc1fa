using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Counters;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

// The evaluator, part 2 of 4: planning a call (hide, entry, checks, limits, approval) purely, with no I/O.
public sealed partial class PolicyEvaluator
{
    private static readonly IReadOnlyDictionary<string, JsonElement> EmptyArguments = new Dictionary<string, JsonElement>();

    [ThreadStatic]
    private static RequestList? t_requests;

    /// <summary>The counter requests of one call: a reusable array and a count, read by stores as a list.</summary>
    private sealed class RequestList : IReadOnlyList<CounterRequest>
    {
        public CounterRequest[] Items { get; private set; } = new CounterRequest[4];

        public int Count { get; private set; }

        public CounterRequest this[int index] => (uint)index < (uint)Count ? Items[index] : throw new ArgumentOutOfRangeException(nameof(index));

        public void Reset(int count)
        {
            if (Items.Length < count)
            {
                Items = new CounterRequest[count];
            }

            Count = count;
        }

        public IEnumerator<CounterRequest> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return Items[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>What is left to do after the pure checks: nothing (a final decision), or counters and approval.</summary>
    private struct Plan
    {
        public Verdict? Final;
        public CompiledRules? Rules;
        public RequestList? Requests;
        public CompiledApproval? Approval;

        // Set when the only request is a grant-scoped counter planned for the in-memory store's grant path: the
        // request's key is left null (the store holds the counter under the identity id; see DeferKeyOfOnlyGrant).
        public CompiledLimit? Grant;
    }

    private Plan MakePlan(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, bool reuseBuffers)
    {
        var rules = match.Rules;
        if (match.Known ? match.Hidden : policy.Lookup(tool, out rules))
        {
            return new Plan { Final = policy.Hidden };
        }

        if (rules is null && policy.Default == DefaultAction.Deny)
        {
            return new Plan { Final = policy.DefaultDeny };
        }

        if (dictionary is null && args.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            return new Plan { Final = policy.InvalidArguments };
        }

        var context = new EvaluationContext(args, dictionary, identity);
        var allTools = policy.AllTools;
        var denial = rules is not null ? Check(rules, context, policy) : null;
        denial ??= allTools is not null ? Check(allTools, context, policy) : null;
        if (denial is not null)
        {
            return new Plan { Final = denial };
        }

        var plan = new Plan { Rules = rules };
        var limitCount = (rules?.Limits.Length ?? 0) + (allTools?.Limits.Length ?? 0);
        if (limitCount > 0)
        {
            // The synchronous path reuses one request list per thread (a store must not keep it past the call);
            // the asynchronous path may resume on another thread, so it gets its own.
            var requests = reuseBuffers ? (t_requests ??= new RequestList()) : new RequestList();
            requests.Reset(limitCount);
            plan.Requests = requests;
            var index = 0;
            var deferGrantKey = reuseBuffers && limitCount == 1 && _memory is not null;
            if (rules is not null && PlanLimits(rules.Limits, context, tool, policy, requests.Items, ref index, deferGrantKey) is { } limitDenial)
            {
                return new Plan { Final = limitDenial };
            }

            if (allTools is not null && PlanLimits(allTools.Limits, context, tool, policy, requests.Items, ref index, deferGrantKey) is { } allLimitDenial)
            {
                return new Plan { Final = allLimitDenial };
            }
        }

        if (plan.Requests is { } planned && planned.Items[0].Key is null)
        {
            plan.Grant = rules is { Limits.Length: 1 } ? rules.Limits[0] : allTools!.Limits[0];
        }

        plan.Approval = NeededApproval(rules, context) ?? NeededApproval(allTools, context);
        if (plan.Approval is not null && plan.Grant is { } deferred)
        {
            // The approval path goes through the general store calls, which count by key.
            plan.Requests!.Items[0] = plan.Requests.Items[0] with { Key = GrantKey(deferred, identity) };
            plan.Grant = null;
        }
        if (plan.Requests is null && plan.Approval is null)
        {
            plan.Final = rules?.Allow ?? policy.DefaultAllow;
        }

        return plan;
    }

    /// <summary>The entry's own checks in order: action, args_schema, require and deny_if. Returns the first denial.</summary>
    private static Verdict? Check(CompiledRules rules, in EvaluationContext context, Policy policy)
    {
        if (rules.ActionDenial is { } actionDenial)
        {
            return actionDenial;
        }

        if (rules.ArgsSchema is { } schema)
        {
            bool holds;
            try
            {
                holds = SchemaHolds(schema, context);
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                return new Verdict(DecisionKind.Deny, RegexTimeoutReason, rules.Pointer + "/args_schema", policy.Version);
            }

            if (!holds)
            {
                return ArgsSchemaDenial(rules, schema, context, policy);
            }
        }

        // Checks that read only the identity are decided once per identity and policy; the entry's allow stands for "passed".
        var slot = rules.IdentityMemoSlot;
        if (slot >= 0 && context.Identity.Recall(policy, slot) is { } remembered)
        {
            return ReferenceEquals(remembered, rules.Allow) ? null : remembered;
        }

        var denial = RunChecks(rules, context, policy);
        if (slot >= 0)
        {
            context.Identity.Remember(policy, slot, denial ?? rules.Allow);
        }

        return denial;
    }

    private static Verdict? RunChecks(CompiledRules rules, in EvaluationContext context, Policy policy)
    {
        foreach (var check in rules.Checks)
        {
            var ambiguous = false;
            bool holds;
            try
            {
                holds = check.Predicate.Holds(context, ref ambiguous);
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                // Fail closed: a match that overran its time budget never counts as passing.
                return new Verdict(DecisionKind.Deny, RegexTimeoutReason, check.Pointer, policy.Version);
            }

            if (ambiguous)
            {
                var why = check.Predicate.Undecided(context) ?? "an argument on the path of this rule appears more than once (a duplicated key)";
                return new Verdict(DecisionKind.Deny, why, check.Pointer, policy.Version);
            }

            if (holds != check.IsRequire)
            {
                return check.Denial;
            }
        }

        return null;
    }

    private static readonly string RegexTimeoutReason =
        $"an argument took longer than the {RegexBudget.MatchTimeout.TotalMilliseconds:0} ms regex time budget to match this rule's pattern";

    private static bool SchemaHolds(Json.Schema.JsonSchema schema, in EvaluationContext context) =>
        schema.Evaluate(ArgumentsElement(context), FlagOptions).IsValid;

    private static readonly Json.Schema.EvaluationOptions FlagOptions = new() { OutputFormat = Json.Schema.OutputFormat.Flag };

    private static readonly Json.Schema.EvaluationOptions ListOptions = new() { OutputFormat = Json.Schema.OutputFormat.List };

    private static Verdict ArgsSchemaDenial(CompiledRules rules, Json.Schema.JsonSchema schema, in EvaluationContext context, Policy policy)
    {
        (string Location, string Message)? detail;
        try
        {
            detail = FirstSchemaError(schema.Evaluate(ArgumentsElement(context), ListOptions));
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            detail = null;
        }

        var reason = detail is null
            ? "the arguments do not match the tool's schema"
            : $"the arguments do not match the tool's schema at \"{detail.Value.Location}\": {detail.Value.Message}";
        return new Verdict(DecisionKind.Deny, reason, rules.Pointer + "/args_schema", policy.Version);
    }

    private static (string Location, string Message)? FirstSchemaError(Json.Schema.EvaluationResults results)
    {
        if (results.Errors is { Count: > 0 } errors)
        {
            foreach (var (_, message) in errors)
            {
                return (results.InstanceLocation.ToString(), message);
            }
        }

        if (results.Details is { } details)
        {
            foreach (var detail in details)
            {
                if (FirstSchemaError(detail) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    /// <summary>The arguments as one element (the dictionary form is serialised; schemas are not on the fastest path).</summary>
    private static JsonElement ArgumentsElement(in EvaluationContext context)
    {
        if (context.ArgsDictionary is { } dictionary)
        {
            return ToElement(dictionary);
        }

        return context.Args.ValueKind == JsonValueKind.Object ? context.Args : EmptyObject;
    }

    internal static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static JsonElement ToElement(IReadOnlyDictionary<string, JsonElement> dictionary) => JsonObjects.Create(null, dictionary);

    private static CompiledApproval? NeededApproval(CompiledRules? rules, in EvaluationContext context)
    {
        if (rules?.Approval is not { } approval)
        {
            return null;
        }

        foreach (var predicate in approval.When)
        {
            // An ambiguous argument here errs towards asking a person.
            var ambiguous = false;
            if (!predicate.Holds(context, ref ambiguous) && !ambiguous)
            {
                return null;
            }
        }

        return approval;
    }

    /// <summary>Builds the counter requests of a list of limits; returns a denial for a missing scope or a bad cost.</summary>
    private static Verdict? PlanLimits(
        CompiledLimit[] limits,
        in EvaluationContext context,
        string tool,
        Policy policy,
        CounterRequest[] requests,
        ref int index,
        bool deferGrantKey)
    {
        foreach (var limit in limits)
        {
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

            requests[index] = new CounterRequest(key, amount, rule.Max, rule.WindowLength, rule.Algorithm);
            index++;
        }

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
