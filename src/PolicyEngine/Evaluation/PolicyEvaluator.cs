using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

/// <summary>
/// Decides, before each tool call runs, whether it may run. Thread-safe: one evaluator serves every caller.
/// </summary>
/// <remarks>
/// <para>One call flows through: <c>hide</c> → the matching tool entry (or the default) → the entry's
/// <c>action</c>, <c>args_schema</c>, <c>require</c> and <c>deny_if</c> → the same for <c>all_tools</c> → limits
/// (planned, then peeked or reserved) → approval. The first denial found wins (denials have the highest precedence);
/// a call that would be rate-limited reports <see cref="DecisionKind.RateLimited"/> even when it also needs approval.</para>
/// <para><see cref="Evaluate(PolicyIdentity, string, JsonElement)"/> never throws for any argument value or store
/// fault: arguments that cannot be evaluated are denied, and a failing store fails closed unless
/// <see cref="PolicyEvaluatorOptions.StoreFailureMode"/> says otherwise.</para>
/// </remarks>
public sealed class PolicyEvaluator
{
    private readonly ICounterStore _counters;
    private readonly IApprovalStore _approvals;
    private readonly TimeProvider _time;
    private readonly StoreFailureMode _failureMode;
    private readonly TimeSpan _storeTimeout;
    private Policy _policy;

    /// <summary>Creates an evaluator.</summary>
    /// <param name="policy">The compiled policy.</param>
    /// <param name="counterStore">Where limit counters live (default: a new <see cref="InMemoryCounterStore"/>).</param>
    /// <param name="approvalStore">Where granted approvals wait (default: a new <see cref="InMemoryApprovalStore"/>).</param>
    /// <param name="timeProvider">The clock for windows and approval expiry (default: <see cref="TimeProvider.System"/>).</param>
    /// <param name="options">Failure mode and store timeout; copied, so later changes have no effect.</param>
    public PolicyEvaluator(
        Policy policy,
        ICounterStore? counterStore = null,
        IApprovalStore? approvalStore = null,
        TimeProvider? timeProvider = null,
        PolicyEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        _policy = policy;
        _time = timeProvider ?? TimeProvider.System;
        _counters = counterStore ?? new InMemoryCounterStore();
        _approvals = approvalStore ?? new InMemoryApprovalStore(_time);
        options ??= new PolicyEvaluatorOptions();
        if (options.StoreTimeout <= TimeSpan.Zero && options.StoreTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StoreTimeout, "the store timeout must be positive");
        }

        if (!Enum.IsDefined(options.StoreFailureMode))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.StoreFailureMode, "unknown store failure mode");
        }

        _failureMode = options.StoreFailureMode;
        _storeTimeout = options.StoreTimeout;
    }

    /// <summary>
    /// Raised after every decision, on the evaluating thread. Handlers receive identity id, tool, decision, the
    /// SHA-256 of the canonical arguments and their sorted names — never argument values. Without handlers nothing
    /// is computed. An exception thrown by a handler is swallowed: auditing must not change a decision.
    /// </summary>
    public event EventHandler<DecisionEvent>? DecisionMade;

    /// <summary>The policy currently in force.</summary>
    public Policy Policy => Volatile.Read(ref _policy);

    /// <summary>
    /// Swaps in a new policy atomically: every later decision uses it, every decision uses exactly one policy, and
    /// counters keep their values (they are keyed by counter id, not by policy).
    /// </summary>
    /// <param name="policy">The new policy.</param>
    public void Update(Policy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Volatile.Write(ref _policy, policy);
    }

    /// <summary>Whether <paramref name="tool"/> appears in <c>tools/list</c> for the caller (it is not hidden).</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <returns><see langword="false"/> when <c>hide</c> covers the tool.</returns>
    public bool IsVisible(PolicyIdentity identity, string tool)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        return !Policy.IsHidden(tool);
    }

    /// <summary>Decides whether the call may run, charging its limits if it may.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments: a JSON object (<c>default</c> or <c>null</c> means none).</param>
    /// <returns>The decision. Pass it to <see cref="Complete(Decision, bool)"/> once the call has run.</returns>
    public Decision Evaluate(PolicyIdentity identity, string tool, JsonElement args)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        var policy = Policy;
        Decision decision;
        try
        {
            decision = policy.FixedDecision(tool, args.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null, out var match)
                ?? DecideSync(policy, match, identity, tool, args, null);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nothing escapes Evaluate: an element of a disposed JsonDocument throws on its first read.
            return Finish(identity, tool, default, null, policy.UnreadableArguments);
        }

        return Finish(identity, tool, args, null, decision);
    }

    /// <summary>Decides whether the call may run, with arguments in the MCP SDK's shape.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments by name; <see langword="null"/> means none.</param>
    /// <returns>The decision.</returns>
    public Decision Evaluate(PolicyIdentity identity, string tool, IReadOnlyDictionary<string, JsonElement>? args)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        args ??= EmptyArguments;
        var policy = Policy;
        Decision decision;
        try
        {
            decision = policy.FixedDecision(tool, argsAreObject: true, out var match) ?? DecideSync(policy, match, identity, tool, default, args);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A host's dictionary that throws while enumerated, or values of a disposed JsonDocument.
            return Finish(identity, tool, default, null, policy.UnreadableArguments);
        }

        return Finish(identity, tool, default, args, decision);
    }

    /// <summary>Decides asynchronously, using the stores' asynchronous paths and the store timeout.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores (the decision then follows the failure mode).</param>
    /// <returns>The decision.</returns>
    public async ValueTask<Decision> EvaluateAsync(PolicyIdentity identity, string tool, JsonElement args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        var policy = Policy;
        Decision decision;
        try
        {
            decision = await DecideAsync(policy, identity, tool, args, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Finish(identity, tool, default, null, policy.UnreadableArguments);
        }

        return Finish(identity, tool, args, null, decision);
    }

    /// <summary>Decides asynchronously, with arguments in the MCP SDK's shape.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments by name; <see langword="null"/> means none.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores.</param>
    /// <returns>The decision.</returns>
    public async ValueTask<Decision> EvaluateAsync(PolicyIdentity identity, string tool, IReadOnlyDictionary<string, JsonElement>? args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        args ??= EmptyArguments;
        var policy = Policy;
        Decision decision;
        try
        {
            decision = await DecideAsync(policy, identity, tool, default, args, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Finish(identity, tool, default, null, policy.UnreadableArguments);
        }

        return Finish(identity, tool, default, args, decision);
    }

    /// <summary>
    /// Commits (the call succeeded) or rolls back (it failed) what the decision reserved. Only the first call for a
    /// decision has an effect, and only on the evaluator that made the decision (another evaluator ignores it); a rollback returns exactly what was reserved and never touches a later window.
    /// Never throws for a store fault (the quota then stays spent: the safe side).
    /// </summary>
    /// <param name="decision">A decision returned by this evaluator.</param>
    /// <param name="succeeded">Whether the upstream call succeeded.</param>
    public void Complete(Decision decision, bool succeeded)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Reservation is not { } reservation || !ReferenceEquals(reservation.Issuer, this) || !reservation.TryComplete() || succeeded)
        {
            return;
        }

        try
        {
            _counters.Release(reservation, _time.GetUtcNow());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Keeping the quota spent is the safe outcome of a failed rollback.
        }
    }

    /// <summary>Asynchronous <see cref="Complete(Decision, bool)"/>.</summary>
    /// <param name="decision">A decision returned by this evaluator.</param>
    /// <param name="succeeded">Whether the upstream call succeeded.</param>
    /// <param name="cancellationToken">Cancels the rollback.</param>
    /// <returns>A task that completes when the rollback is stored.</returns>
    public async ValueTask CompleteAsync(Decision decision, bool succeeded, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.Reservation is not { } reservation || !ReferenceEquals(reservation.Issuer, this) || !reservation.TryComplete() || succeeded)
        {
            return;
        }

        try
        {
            await _counters.ReleaseAsync(reservation, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Keeping the quota spent is the safe outcome of a failed rollback.
        }
    }

    /// <summary>
    /// Approves the exact call described by <paramref name="request"/>: its next evaluation (same policy version,
    /// identity, tool and arguments) within the request's time to live proceeds, once.
    /// </summary>
    /// <param name="request">The request from a <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    public void Approve(ApprovalRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        _approvals.Grant(request.Id, _time.GetUtcNow() + request.TimeToLive);
    }

    /// <summary>Asynchronous <see cref="Approve(ApprovalRequest)"/>.</summary>
    /// <param name="request">The request from a <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the approval is stored.</returns>
    public ValueTask ApproveAsync(ApprovalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _approvals.GrantAsync(request.Id, _time.GetUtcNow() + request.TimeToLive, cancellationToken);
    }

    // ------------------------------------------------------------------ planning (pure, no I/O)

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
        public Decision? Final;
        public CompiledRules? Rules;
        public RequestList? Requests;
        public CompiledApproval? Approval;
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
            if (rules is not null && PlanLimits(rules.Limits, context, tool, policy, requests.Items, ref index) is { } limitDenial)
            {
                return new Plan { Final = limitDenial };
            }

            if (allTools is not null && PlanLimits(allTools.Limits, context, tool, policy, requests.Items, ref index) is { } allLimitDenial)
            {
                return new Plan { Final = allLimitDenial };
            }
        }

        plan.Approval = NeededApproval(rules, context) ?? NeededApproval(allTools, context);
        if (plan.Requests is null && plan.Approval is null)
        {
            plan.Final = rules?.Allow ?? policy.DefaultAllow;
        }

        return plan;
    }

    /// <summary>The entry's own checks in order: action, args_schema, require and deny_if. Returns the first denial.</summary>
    private static Decision? Check(CompiledRules rules, in EvaluationContext context, Policy policy)
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
                return new Decision(DecisionKind.Deny, RegexTimeoutReason, rules.Pointer + "/args_schema", policy.Version);
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

    private static Decision? RunChecks(CompiledRules rules, in EvaluationContext context, Policy policy)
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
                return new Decision(DecisionKind.Deny, RegexTimeoutReason, check.Pointer, policy.Version);
            }

            if (ambiguous)
            {
                var why = check.Predicate.Undecided(context) ?? "an argument on the path of this rule appears more than once (a duplicated key)";
                return new Decision(DecisionKind.Deny, why, check.Pointer, policy.Version);
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

    private static Decision ArgsSchemaDenial(CompiledRules rules, Json.Schema.JsonSchema schema, in EvaluationContext context, Policy policy)
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
        return new Decision(DecisionKind.Deny, reason, rules.Pointer + "/args_schema", policy.Version);
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
    private static Decision? PlanLimits(
        CompiledLimit[] limits,
        in EvaluationContext context,
        string tool,
        Policy policy,
        CounterRequest[] requests,
        ref int index)
    {
        foreach (var limit in limits)
        {
            var rule = limit.Rule;
            string key;
            switch (rule.ScopeKind)
            {
                case LimitScopeKind.Grant:
                    if (context.Identity.FindCounterKey(limit) is not { } cached)
                    {
                        cached = CounterKey(rule, "g" + context.Identity.Id);
                        context.Identity.AddCounterKey(limit, cached);
                    }

                    key = cached;
                    break;
                case LimitScopeKind.Global:
                    key = limit.GlobalKey;
                    break;
                case LimitScopeKind.Tool:
                    if (!limit.ToolKeys.TryGetValue(tool, out var toolKey))
                    {
                        toolKey = CounterKey(rule, "t" + tool);
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
                        return new Decision(DecisionKind.Deny, $"the argument {rule.Scope[5..]} {why}; the limit \"{rule.Counter}\" is counted per value of it", limit.Pointer, policy.Version);
                    }

                    if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array && JsonValueComparer.IsDeeperThanMaxDepth(value))
                    {
                        // Canonical JSON keeps text past that depth as written, so respelling it would open a new counter.
                        return new Decision(DecisionKind.Deny, $"the argument {rule.Scope[5..]} is nested deeper than {JsonValueComparer.MaxDepth} levels; the limit \"{rule.Counter}\" is counted per value of it", limit.Pointer, policy.Version);
                    }

                    // Strings keep their text; other values their canonical JSON, tagged so "5" and 5 differ.
                    key = CounterKey(rule, value.ValueKind == JsonValueKind.String
                        ? "s" + new string(StringValue.GetChars(value, []))
                        : "j" + Encoding.UTF8.GetString(CanonicalJson.ToCanonicalBytes(value)));
                    break;
            }

            long amount = rule.Cost;
            if (limit.CostPath is { } costPath)
            {
                var found = costPath.Resolve(context, out var value);
                if (found != PathResult.Found || !ExactNumber.IsNonNegativeInteger(value, out amount))
                {
                    return new Decision(
                        DecisionKind.Deny,
                        $"the argument {rule.CostFrom![5..]} must be a non-negative whole number (the amount charged to \"{rule.Counter}\")",
                        limit.Pointer,
                        policy.Version);
                }
            }

            if (amount > rule.Max)
            {
                return new Decision(
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

    /// <summary>
    /// The storage key of a counter: every part length-prefixed, so no identity or argument value can collide with
    /// another key (<c>"a:b"</c> vs <c>"a"</c> + <c>":b"</c>, empty strings, any Unicode).
    /// </summary>
    internal static string CounterKey(LimitRule rule, string scopeValue)
    {
        var window = (long)rule.WindowLength.TotalMilliseconds;
        var algorithm = rule.Algorithm == LimitAlgorithm.Sliding ? 's' : 'f';
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{rule.Counter.Length}:{rule.Counter}|{window}{algorithm}|{scopeValue.Length}:{scopeValue}");
    }

    // ------------------------------------------------------------------ finishing (stores)

    /// <summary>
    /// Plans the call; only a call that needs the stores goes on to <see cref="Decide"/>, on the synchronous store
    /// paths, where it never suspends and so completes here.
    /// </summary>
    private Decision DecideSync(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary)
    {
        // The common case: a listed tool whose checks alone decide (no limits, approval or all_tools) needs no plan.
        if (match is { Known: true, Hidden: false, Rules: { ChecksOnly: true } rules } && policy.AllTools is null
            && (dictionary is not null || args.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
        {
            try
            {
                return Check(rules, new EvaluationContext(args, dictionary, identity), policy) ?? rules.Allow;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return policy.UnreadableArguments;
            }
        }

        if (TryPlan(policy, match, identity, tool, args, dictionary, synchronous: true, out var plan) is { } final)
        {
            return final;
        }

        if (plan is { Approval: null, Requests: { } requests })
        {
            // Limits without approval: one reservation, decided here without the general store phase.
            CounterResult result;
            try
            {
                result = _counters.Reserve(requests, _time.GetUtcNow());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return StoreFailure(policy, plan);
            }

            return result.Admitted ? Admitted(policy, plan, result) : RateLimited(policy, plan, result);
        }

        var pending = Decide(policy, plan, identity, tool, args, dictionary, synchronous: true, CancellationToken.None);
        Debug.Assert(pending.IsCompleted, "the synchronous path never awaits");
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    private ValueTask<Decision> DecideAsync(Policy policy, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, CancellationToken cancellationToken) =>
        TryPlan(policy, default, identity, tool, args, dictionary, synchronous: false, out var plan) is { } final
            ? ValueTask.FromResult(final)
            : Decide(policy, plan, identity, tool, args, dictionary, synchronous: false, cancellationToken);

    /// <summary>Makes the plan; returns the decision when no store is needed.</summary>
    private Decision? TryPlan(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, bool synchronous, out Plan plan)
    {
        try
        {
            plan = MakePlan(policy, match, identity, tool, args, dictionary, reuseBuffers: synchronous);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Hostile arguments (invalid escapes, absurd nesting) must never escape as exceptions nor become allows.
            plan = default;
            return policy.UnreadableArguments;
        }

        return plan.Final;
    }

    /// <summary>
    /// The store part of one decision: peek, approval and reservation. Written once for both
    /// paths: <paramref name="synchronous"/> calls the stores' synchronous methods, so nothing is awaited and the
    /// returned task is already complete (and allocation-free); otherwise the asynchronous methods, bounded by the
    /// store timeout.
    /// </summary>
    private async ValueTask<Decision> Decide(
        Policy policy,
        Plan plan,
        PolicyIdentity identity,
        string tool,
        JsonElement args,
        IReadOnlyDictionary<string, JsonElement>? dictionary,
        bool synchronous,
        CancellationToken cancellationToken)
    {
        CancellationTokenSource? timeout = null;
        try
        {
            var token = cancellationToken;
            if (!synchronous && _storeTimeout != Timeout.InfiniteTimeSpan)
            {
                // One timer bounds the whole store phase: the stores get it in their token, and the evaluator stops
                // waiting when it fires even if a store ignores its token (see Bounded).
                timeout = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : new CancellationTokenSource();
                timeout.CancelAfter(_storeTimeout);
                token = timeout.Token;
            }

            var now = _time.GetUtcNow();
            var consumedApproval = false;
            DateTimeOffset approvalExpiry = default;
            string? approvalId = null;
            if (plan.Approval is { } approval)
            {
                if (plan.Requests is { } peekRequests)
                {
                    CounterResult peek;
                    try
                    {
                        peek = await (synchronous
                            ? new ValueTask<CounterResult>(_counters.Peek(peekRequests, now))
                            : Bounded(_counters.PeekAsync(peekRequests, now, token), token)).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        return StoreFailure(policy, plan);
                    }

                    if (!peek.Admitted)
                    {
                        return RateLimited(policy, plan, peek);
                    }
                }

                try
                {
                    approvalId = Fingerprint(policy, identity, tool, args, dictionary);
                    if (synchronous)
                    {
                        consumedApproval = _approvals.TryConsume(approvalId, now, out approvalExpiry);
                    }
                    else
                    {
                        (consumedApproval, approvalExpiry) = await Bounded(_approvals.TryConsumeAsync(approvalId, now, token), token).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Approvals always fail closed: an unreadable approval store never approves.
                    return policy.StoreUnavailable;
                }

                if (!consumedApproval)
                {
                    return NeedsApproval(policy, approval, approvalId, identity, tool);
                }
            }

            if (plan.Requests is not { } requests)
            {
                return plan.Rules?.Allow ?? policy.DefaultAllow;
            }

            CounterResult result;
            try
            {
                result = await (synchronous
                    ? new ValueTask<CounterResult>(_counters.Reserve(requests, now))
                    : Bounded(_counters.ReserveAsync(requests, now, token), token)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                RestoreApproval(consumedApproval, approvalId, approvalExpiry);
                return StoreFailure(policy, plan);
            }

            if (!result.Admitted)
            {
                RestoreApproval(consumedApproval, approvalId, approvalExpiry);
                return RateLimited(policy, plan, result);
            }

            return Admitted(policy, plan, result);
        }
        finally
        {
            timeout?.Dispose();
        }
    }

    /// <summary>
    /// Bounds a store call by the store timeout even when the store ignores its cancellation token: the evaluator
    /// stops waiting (and fails as configured); the store's own work may finish later and is ignored.
    /// </summary>
    private static ValueTask<T> Bounded<T>(ValueTask<T> pending, CancellationToken token) =>
        pending.IsCompleted || !token.CanBeCanceled ? pending : new ValueTask<T>(pending.AsTask().WaitAsync(token));

    /// <summary>A call that cannot run after all (rate-limited, store fault) keeps its approval for the next try.</summary>
    private void RestoreApproval(bool consumed, string? id, DateTimeOffset expiresAt)
    {
        if (!consumed || id is null)
        {
            return;
        }

        try
        {
            _approvals.Grant(id, expiresAt);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The person can approve again; nothing unsafe follows from losing the approval.
        }
    }

    private Decision StoreFailure(Policy policy, in Plan plan) =>
        _failureMode == StoreFailureMode.FailOpen
            ? new Decision(DecisionKind.Allow, "limits were not enforced: the counter store is unavailable", plan.Rules?.Pointer ?? BuiltInRules.DefaultAllow, policy.Version, unenforced: true)
            : policy.StoreUnavailable;

    private Decision Admitted(Policy policy, in Plan plan, in CounterResult result)
    {
        if (result.Reservation is { } reservation)
        {
            reservation.Issuer ??= this;
        }

        return new(DecisionKind.Allow, null, plan.Rules?.Pointer ?? BuiltInRules.DefaultAllow, policy.Version, reservation: result.Reservation);
    }

    private static Decision RateLimited(Policy policy, in Plan plan, in CounterResult result)
    {
        // Requests were planned in order: the tool's limits, then all_tools'.
        var index = Math.Max(0, result.LimitingIndex);
        var own = plan.Rules?.Limits ?? [];
        var limit = index < own.Length ? own[index]
            : policy.AllTools is { } allTools && index - own.Length < allTools.Limits.Length ? allTools.Limits[index - own.Length]
            : own.Length > 0 ? own[0] : policy.AllTools!.Limits[0];
        return limit.RateLimited(result.RetryAfter, policy.Version);
    }

    private static Decision NeedsApproval(Policy policy, CompiledApproval approval, string id, PolicyIdentity identity, string tool)
    {
        var request = new ApprovalRequest(id, identity.Id, tool, approval.Reason, approval.Pointer, approval.TimeToLive, policy.Version);
        return new Decision(DecisionKind.NeedsApproval, approval.Reason, approval.Pointer, policy.Version, approval: request);
    }

    /// <summary>The approval id of this exact call (see <see cref="ApprovalFingerprint"/>).</summary>
    private static string Fingerprint(Policy policy, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary) =>
        ApprovalFingerprint.Compute(policy.Version, identity.Id, tool, CanonicalArguments(args, dictionary));

    private static byte[] CanonicalArguments(JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary)
    {
        var element = dictionary is not null ? ToElement(dictionary)
            : args.ValueKind == JsonValueKind.Object ? args
            : EmptyObject;
        return CanonicalJson.ToCanonicalBytes(element);
    }

    // ------------------------------------------------------------------ observation

    private Decision Finish(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        if (PolicyTelemetry.Decisions.Enabled || PolicyTelemetry.Source.HasListeners())
        {
            Observe(identity, tool, decision);
        }

        if (DecisionMade is { } handlers)
        {
            Publish(handlers, identity, tool, args, dictionary, decision);
        }

        return decision;
    }

    /// <summary>Metrics and tracing; a throwing listener must not turn a decision into an exception.</summary>
    private static void Observe(PolicyIdentity identity, string tool, Decision decision)
    {
        try
        {
            if (PolicyTelemetry.Decisions.Enabled)
            {
                PolicyTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("kind", PolicyTelemetry.KindName(decision.Kind)));
            }

            if (PolicyTelemetry.Source.HasListeners())
            {
                using var activity = PolicyTelemetry.Source.StartActivity("policyengine.evaluate", ActivityKind.Internal);
                if (activity is not null)
                {
                    activity.SetTag("policyengine.tool", tool);
                    activity.SetTag("policyengine.identity", identity.Id);
                    activity.SetTag("policyengine.decision", PolicyTelemetry.KindName(decision.Kind));
                    activity.SetTag("policyengine.rule", decision.Rule);
                    activity.SetTag("policyengine.policy_version", decision.PolicyVersion);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Observability is best effort; the decision stands.
        }
    }

    private void Publish(EventHandler<DecisionEvent> handlers, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        // Arguments that cannot be read (a disposed JsonDocument, a throwing dictionary) still give an event: the
        // decision is what the audit trail must not lose.
        var sha256 = string.Empty;
        var names = new List<string>();
        try
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(CanonicalArguments(args, dictionary)));
            if (dictionary is not null)
            {
                names.AddRange(dictionary.Keys);
            }
            else if (args.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in args.EnumerateObject())
                {
                    names.Add(StringValue.GetName(property));
                }
            }

            names.Sort(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            sha256 = string.Empty;
            names.Clear();
        }

        try
        {
            handlers(this, new DecisionEvent(_time.GetUtcNow(), identity.Id, tool, decision, sha256, names));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Auditing must never change or break a decision.
        }
    }
}
