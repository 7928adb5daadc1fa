using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Approvals;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

// The evaluator, finishing a plan against the counter and approval stores, sync and async.
public sealed partial class PolicyEvaluator
{
    /// <summary>
    /// Plans the call; only a call that needs the stores goes on to <see cref="Decide"/>, on the synchronous store
    /// paths, where it never suspends and so completes here.
    /// </summary>
    // Never inlined into Evaluate: the plan path inlined here needs a large frame (a plan, requests, a context, all
    // zeroed on entry) that calls settled by the tool lookup alone must not pay. Inlined, it cost every such call
    // 6 ns at 50 tools and 15 ns at 10,000 in the processes where the JIT chose to (about half of them).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Decision DecideSync(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, bool argsAreObject)
    {
        // The common cases need no plan: a listed tool whose checks alone decide, or whose one charge is a plain grant
        // limit on the default store (see CompiledRules.SoleGrant); no approval, no all_tools. Its checks, then that
        // one reservation, if any: the walk below would reach the same decision.
        if (match is { Known: true, Hidden: false, Rules: { } rules } && policy.AllTools is null && argsAreObject
            && (rules.ChecksOnly || (rules.SoleGrant is not null && _memory is not null)))
        {
            Verdict? denial;
            try
            {
                var none = default(NoRecorder);
                denial = rules.HasChecks ? Check(rules, new EvaluationContext(args, dictionary, identity), policy, ref none) : null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return new Decision(policy.UnreadableArguments);
            }

            return denial is null && rules.SoleGrant is { } sole
                ? ReserveSoleGrant(policy, rules, sole, identity)
                : new Decision(denial ?? rules.Allow);
        }

        if (TryPlan(policy, match, identity, tool, args, dictionary, argsAreObject, synchronous: true, out var plan) is { } final)
        {
            return new Decision(final);
        }

        if (plan is { Approval: null, Requests: { } requests })
        {
            // Limits without approval: one reservation, decided here without the general store phase.
            CounterResult result;
            CounterCharge charge = default;
            var inPlace = _memory is not null && requests.Count == 1;
            try
            {
                if (plan.Grant is { } grant)
                {
                    // The default store's grant path: the counter is held under the identity id (no key string), the
                    // charge comes back in place (no reservation object), and the identity keeps the store's cell of
                    // its first limit as a hint.
                    object? noHint = null;
                    result = _memory!.ReserveGrant(
                        grant.Prefix,
                        identity.Id,
                        requests.Items[0],
                        _time.GetUtcNow(),
                        ref grant.StoreTable,
                        ref identity.HoldsFirstLimit(grant) ? ref identity.FirstCounterCell : ref noHint,
                        out charge);
                }
                else if (_memory is { } memory && requests.Count == 1)
                {
                    // The default store's single-counter path: the charge comes back in place.
                    object? noHint = null;
                    result = memory.ReserveOne(requests.Items[0], _time.GetUtcNow(), ref noHint, out charge);
                }
                else
                {
                    result = _counters.Reserve(requests, _time.GetUtcNow());
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                return new Decision(StoreFailure(policy, plan.Rules, ex));
            }

            if (!result.Admitted)
            {
                return RateLimited(policy, plan, result);
            }

            return inPlace ? Admitted(plan.Rules?.Allow ?? policy.DefaultAllow, charge, plan.Grant is { } charged ? (charged.Prefix, identity.Id) : default) : Admitted(policy, plan, result);
        }

        var pending = Decide(policy, plan, identity, tool, args, dictionary, synchronous: true, CancellationToken.None);
        Debug.Assert(pending.IsCompleted, "the synchronous path never awaits");
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// A call whose entry charges one plain grant limit and nothing else (<see cref="CompiledRules.SoleGrant"/>), its
    /// checks passed, on the default store: the store's grant path. The same decision as the plan would make.
    /// </summary>
    private Decision ReserveSoleGrant(Policy policy, CompiledRules rules, CompiledLimit grant, PolicyIdentity identity)
    {
        CounterResult result;
        CounterCharge charge;
        try
        {
            object? noHint = null;
            result = _memory!.ReserveGrant(
                grant.Prefix,
                identity.Id,
                grant.PlainGrantRequest,
                _time.GetUtcNow(),
                ref grant.StoreTable,
                ref identity.HoldsFirstLimit(grant) ? ref identity.FirstCounterCell : ref noHint,
                out charge);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new Decision(StoreFailure(policy, rules, ex));
        }

        return result.Admitted ? Admitted(rules.Allow, charge, (grant.Prefix, identity.Id)) : new Decision(grant.Limited, result.RetryAfter);
    }

    private ValueTask<Decision> DecideAsync(Policy policy, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, CancellationToken cancellationToken) =>
        TryPlan(policy, default, identity, tool, args, dictionary, argsAreObject: null, synchronous: false, out var plan) is { } final
            ? ValueTask.FromResult(new Decision(final))
            : Decide(policy, plan, identity, tool, args, dictionary, synchronous: false, cancellationToken);

    /// <summary>Makes the plan; returns the decision when no store is needed.</summary>
    private Verdict? TryPlan(Policy policy, Policy.ToolMatch match, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, bool? argsAreObject, bool synchronous, out Plan plan)
    {
        try
        {
            var shapeOk = argsAreObject ?? (dictionary is not null || args.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null);
            plan = MakePlan(policy, match, identity, tool, args, dictionary, shapeOk, reuseBuffers: synchronous);
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
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
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
        StoreTimeouts.Lease? timeout = null;
        try
        {
            var token = cancellationToken;
            if (!synchronous && _storeTimeout != Timeout.InfiniteTimeSpan)
            {
                // One timer bounds the whole store phase: the stores get it in their token, and the evaluator stops
                // waiting when it fires even if a store ignores its token (see Bounded). The source is recycled.
                timeout = StoreTimeouts.Start(_storeTimeout, cancellationToken);
                token = timeout.Value.Token;
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
                        return new Decision(StoreFailure(policy, plan.Rules, ex));
                    }

                    if (!peek.Admitted)
                    {
                        return RateLimited(policy, plan, peek);
                    }
                }

                try
                {
                    approvalId = ApprovalFingerprint.ForCall(policy.Version, identity.Id, tool, args, dictionary);
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
                    return new Decision(policy.StoreUnavailable.WithStoreError(ex));
                }

                if (!consumedApproval)
                {
                    return new Decision(NeedsApproval(policy, approval, approvalId, identity, tool));
                }
            }

            if (plan.Requests is not { } requests)
            {
                OnApprovalConsumed(consumedApproval, approvalId, identity, tool, now);
                return new Decision(plan.Rules?.Allow ?? policy.DefaultAllow);
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
                return new Decision(StoreFailure(policy, plan.Rules, ex));
            }

            if (!result.Admitted)
            {
                RestoreApproval(consumedApproval, approvalId, approvalExpiry);
                return RateLimited(policy, plan, result);
            }

            OnApprovalConsumed(consumedApproval, approvalId, identity, tool, now);
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
            _approvals.Approve(id, _time.GetUtcNow(), expiresAt);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The person can approve again; nothing unsafe follows from losing the approval.
        }
    }

    /// <summary>The decision a failing counter store makes (by the failure mode), carrying what it threw.</summary>
    private Verdict StoreFailure(Policy policy, CompiledRules? rules, Exception error) =>
        _failureMode == StoreFailureMode.FailOpen
            ? new Verdict(DecisionKind.Allow, "limits were not enforced: the counter store is unavailable", rules?.Pointer ?? BuiltInRules.DefaultAllow, policy.Version, unenforced: true, storeError: error)
            : policy.StoreUnavailable.WithStoreError(error);

    private Decision Admitted(Policy policy, in Plan plan, in CounterResult result)
    {
        var allow = plan.Rules?.Allow ?? policy.DefaultAllow;
        if (result.Reservation is not { } reservation)
        {
            return new Decision(allow);
        }

        // The reservation goes into a recycled handle; the decision records the handle's version (see Complete).
        var ticket = TicketPool.Rent(this);
        ticket.Reservation = reservation;
        return new Decision(allow, ticket, Volatile.Read(ref ticket.Version));
    }

    /// <summary>An admitted call whose single charge came back in place: it goes into a recycled handle, nothing is allocated.</summary>
    /// <remarks>A grant-path charge has no key: <paramref name="grantKey"/> holds the limit prefix and identity id it is built from when needed.</remarks>
    private Decision Admitted(Verdict allow, in CounterCharge charge, (string Prefix, string Id) grantKey)
    {
        var ticket = TicketPool.Rent(this);
        ticket.Charge = charge;
        ticket.GrantKey = grantKey;
        return new Decision(allow, ticket, Volatile.Read(ref ticket.Version));
    }

    private static Decision RateLimited(Policy policy, in Plan plan, in CounterResult result)
    {
        // Requests were planned in order: the tool's limits, then all_tools'.
        var index = Math.Max(0, result.LimitingIndex);
        var own = plan.Rules?.Limits ?? [];
        var limit = index < own.Length ? own[index]
            : policy.AllTools is { } allTools && index - own.Length < allTools.Limits.Length ? allTools.Limits[index - own.Length]
            : own.Length > 0 ? own[0] : policy.AllTools!.Limits[0];
        return new Decision(limit.Limited, result.RetryAfter);
    }

    private static Verdict NeedsApproval(Policy policy, CompiledApproval approval, string id, PolicyIdentity identity, string tool)
    {
        var request = new ApprovalRequest(id, identity.Id, tool, approval.Reason, approval.Pointer, approval.TimeToLive, policy.Version, approval);
        return new Verdict(DecisionKind.NeedsApproval, approval.Reason, approval.Pointer, policy.Version, approval: request);
    }
}
