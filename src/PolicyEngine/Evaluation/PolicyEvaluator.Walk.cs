using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

// The evaluator, its one walk over a call (hide, entry, checks, limits, approval): pure, no I/O; explain walks it too.
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

    private Plan MakePlan(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, bool argsAreObject, bool reuseBuffers)
    {
        var none = default(NoRecorder);
        return Walk(policy, match, identity, tool, args, dictionary, argsAreObject, reuseBuffers, inMemoryStore: _memory is not null, ref none);
    }

    /// <summary>
    /// Explains one call: the same walk as <see cref="Evaluate(PolicyIdentity, string, JsonElement)"/>, with a
    /// recorder, and no store (limits are planned, not reserved). Returns the first denial, if any.
    /// </summary>
    internal static Verdict? Explain(Policy policy, PolicyIdentity identity, string tool, JsonElement args, List<ExplainStep> steps)
    {
        var recorder = new StepRecorder(steps);
        var argsAreObject = args.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null;
        return Walk(policy, default, identity, tool, args, null, argsAreObject, reuseBuffers: false, inMemoryStore: false, ref recorder).Final;
    }

    /// <summary>
    /// The one walk over a call, shared by evaluating and explaining (see <see cref="IWalkRecorder"/>): hide, the
    /// governing entry (or the default), the arguments' shape, the entry's and all_tools' checks, limits planned into
    /// counter requests, then approval. Pure: nothing here reads or writes a store.
    /// </summary>
    // Inlined into MakePlan: the evaluator's instantiation (NoRecorder) then loses every recording branch, and one
    // call, its argument spills and the returned struct's copy leave the hot path (about 10 ns per limited call).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Plan Walk<TRecorder>(
        Policy policy,
        Policy.ToolMatch match,
        PolicyIdentity identity,
        string tool,
        JsonElement args,
        IReadOnlyDictionary<string, JsonElement>? dictionary,
        bool argsAreObject,
        bool reuseBuffers,
        bool inMemoryStore,
        ref TRecorder recorder)
        where TRecorder : struct, IWalkRecorder
    {
        // While recording, the walk goes on past a denial; this is the first one (always null otherwise).
        Verdict? first = null;
        var rules = match.Rules;
        var hidden = match.Known ? match.Hidden : policy.Lookup(tool, out rules);
        if (recorder.Recording)
        {
            recorder.Hidden(tool, hidden);
            rules = hidden ? policy.Find(tool) : rules;
        }

        if (hidden)
        {
            if (!recorder.Recording)
            {
                return new Plan { Final = policy.Hidden };
            }

            first = policy.Hidden;
        }

        if (recorder.Recording)
        {
            recorder.Entry(policy, tool, rules);
        }

        if (rules is null && policy.Default == DefaultAction.Deny)
        {
            if (!recorder.Recording)
            {
                return new Plan { Final = policy.DefaultDeny };
            }

            first ??= policy.DefaultDeny;
        }

        if (!argsAreObject)
        {
            if (recorder.Recording)
            {
                recorder.InvalidArguments(args.ValueKind);
            }

            return new Plan { Final = first ?? policy.InvalidArguments };
        }

        var context = new EvaluationContext(args, dictionary, identity);
        var allTools = policy.AllTools;
        var denial = rules is { HasChecks: true } ? Check(rules, context, policy, ref recorder) : null;
        if (allTools is { HasChecks: true } && (denial is null || recorder.Recording))
        {
            var allToolsDenial = Check(allTools, context, policy, ref recorder);
            denial ??= allToolsDenial;
        }

        if (denial is not null)
        {
            if (!recorder.Recording)
            {
                return new Plan { Final = denial };
            }

            first ??= denial;
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
            var deferGrantKey = reuseBuffers && limitCount == 1 && inMemoryStore;
            if (rules is not null && PlanLimits(rules.Limits, context, tool, policy, requests.Items, ref index, deferGrantKey, ref recorder) is { } limitDenial)
            {
                if (!recorder.Recording)
                {
                    return new Plan { Final = limitDenial };
                }

                first ??= limitDenial;
            }

            if (allTools is not null && PlanLimits(allTools.Limits, context, tool, policy, requests.Items, ref index, deferGrantKey, ref recorder) is { } allLimitDenial)
            {
                if (!recorder.Recording)
                {
                    return new Plan { Final = allLimitDenial };
                }

                first ??= allLimitDenial;
            }
        }

        var approval = NeededApproval(rules, context, ref recorder);
        if (approval is null || recorder.Recording)
        {
            var allToolsApproval = NeededApproval(allTools, context, ref recorder);
            approval ??= allToolsApproval;
        }

        if (first is not null)
        {
            // Only while recording: the walk described every rule; the first denial decides.
            return new Plan { Final = first };
        }

        if (plan.Requests is { } planned && planned.Items[0].Key is null)
        {
            plan.Grant = rules is { Limits.Length: 1 } ? rules.Limits[0] : allTools!.Limits[0];
        }

        plan.Approval = approval;
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
}
