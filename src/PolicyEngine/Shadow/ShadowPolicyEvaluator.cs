using System.Collections.Concurrent;
using System.Text.Json;
using PolicyEngine.Decisions;
using PolicyEngine.Diagnostics;

namespace PolicyEngine;

/// <summary>
/// Shadow mode: evaluates every call with the enforced evaluator and, beside it, with a candidate policy, and reports
/// each call on which the two disagree (<see cref="Disagreement"/>, and the metric
/// <see cref="PolicyTelemetry.ShadowDisagreementsCounterName"/> tagged <c>tool</c> and <c>kinds</c>). The candidate
/// never changes an outcome: the host applies <see cref="ShadowDecision.Enforced"/>, exactly the enforced evaluator's decision.
/// </summary>
/// <remarks>
/// <para>The candidate has its own counters and approvals. Its counters live under <see cref="CounterPrefix"/> in the
/// store it is given (by default a new in-memory store), so it never consumes the enforced policy's quota, even when
/// both share one Redis server. It counts as if it were in force: a call it admits is charged to its counters whether
/// or not the enforced policy let the call run, and a call that ran and failed is returned to both, through
/// <see cref="Complete(ShadowDecision, bool)"/>. A call the enforced policy sends to a person is not charged to the
/// candidate until it is decided again after the answer (so an approved retry is not counted twice).</para>
/// <para>A disagreement is a difference in <see cref="DecisionKind"/>; two denials by different rules agree.
/// <see cref="Approve(ApprovalRequest)"/> also approves the candidate's request for the same call, so an approved
/// retry is compared fairly.</para>
/// </remarks>
public sealed class ShadowPolicyEvaluator
{
    /// <summary>The prefix of every candidate counter key: <c>shadow|</c>.</summary>
    public const string CounterPrefix = "shadow|";

    /// <summary>How many approval requests pending on both sides are remembered (the oldest expired ones go first).</summary>
    private const int MaxPendingApprovals = 10_000;

    private static readonly TimeSpan PendingApprovalLifetime = TimeSpan.FromHours(1);

    private readonly TimeProvider _time;

    // Enforced approval request id -> the candidate's request for the same call, and when to forget it.
    private readonly ConcurrentDictionary<string, (ApprovalRequest Request, DateTimeOffset Forget)> _pendingApprovals = new(StringComparer.Ordinal);

    private long _disagreements;

    /// <summary>Creates a shadow evaluator around <paramref name="enforced"/>.</summary>
    /// <param name="enforced">The evaluator whose decisions are applied.</param>
    /// <param name="candidate">The policy evaluated in the shadow.</param>
    /// <param name="counterStore">
    /// Where the candidate's counters live, under <see cref="CounterPrefix"/> (default: a new
    /// <see cref="InMemoryCounterStore"/>). Passing the enforced evaluator's own store is safe.
    /// </param>
    /// <param name="timeProvider">The clock: pass the enforced evaluator's (default: <see cref="TimeProvider.System"/>).</param>
    public ShadowPolicyEvaluator(PolicyEvaluator enforced, Policy candidate, ICounterStore? counterStore = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(enforced);
        ArgumentNullException.ThrowIfNull(candidate);
        Enforced = enforced;
        _time = timeProvider ?? TimeProvider.System;
        Candidate = new PolicyEvaluator(
            candidate,
            new PrefixedCounterStore(counterStore ?? new InMemoryCounterStore(), CounterPrefix),
            new InMemoryApprovalStore(),
            _time);
    }

    /// <summary>
    /// Raised on the evaluating thread for every call on which the candidate decides another kind of outcome. An
    /// exception thrown by a handler is swallowed: the shadow must not change a decision.
    /// </summary>
    public event EventHandler<ShadowDisagreement>? Disagreement;

    /// <summary>The evaluator whose decisions are applied.</summary>
    public PolicyEvaluator Enforced { get; }

    /// <summary>The candidate's evaluator (its own counters and approvals); its decisions are never applied.</summary>
    public PolicyEvaluator Candidate { get; }

    /// <summary>How many disagreements have been reported.</summary>
    public long DisagreementCount => Interlocked.Read(ref _disagreements);

    /// <summary>Replaces the candidate policy (its counters keep their values).</summary>
    /// <param name="candidate">The new candidate.</param>
    public void UpdateCandidate(Policy candidate) => Candidate.Update(candidate);

    /// <summary>Whether the enforced policy lists the tool for the caller.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <returns>The enforced evaluator's answer.</returns>
    public bool IsVisible(PolicyIdentity identity, string tool) => Enforced.IsVisible(identity, tool);

    /// <summary>Decides with the enforced policy, and with the candidate beside it.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments.</param>
    /// <returns>Both decisions; apply <see cref="ShadowDecision.Enforced"/>, then pass the value to <see cref="Complete(ShadowDecision, bool)"/>.</returns>
    public ShadowDecision Evaluate(PolicyIdentity identity, string tool, JsonElement args)
    {
        var enforced = Enforced.Evaluate(identity, tool, args);
        var candidate = EvaluateCandidate(identity, tool, args, null) ?? enforced;
        Compare(identity, tool, args, null, enforced, candidate);
        Settle(enforced, candidate);
        return new ShadowDecision(enforced, candidate);
    }

    /// <summary>Decides with the enforced policy, and with the candidate beside it (the MCP SDK's argument shape).</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments by name.</param>
    /// <returns>Both decisions.</returns>
    public ShadowDecision Evaluate(PolicyIdentity identity, string tool, IReadOnlyDictionary<string, JsonElement>? args)
    {
        var enforced = Enforced.Evaluate(identity, tool, args);
        var candidate = EvaluateCandidate(identity, tool, default, args) ?? enforced;
        Compare(identity, tool, default, args, enforced, candidate);
        Settle(enforced, candidate);
        return new ShadowDecision(enforced, candidate);
    }

    /// <summary>Asynchronous <see cref="Evaluate(PolicyIdentity, string, JsonElement)"/>; the two policies are asked concurrently.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores.</param>
    /// <returns>Both decisions.</returns>
    public async ValueTask<ShadowDecision> EvaluateAsync(PolicyIdentity identity, string tool, JsonElement args, CancellationToken cancellationToken = default)
    {
        var enforcedTask = Enforced.EvaluateAsync(identity, tool, args, cancellationToken);
        var candidateTask = ShadowAsync(Candidate.EvaluateAsync(identity, tool, args, cancellationToken));
        var enforced = await enforcedTask.ConfigureAwait(false);
        var candidate = await candidateTask.ConfigureAwait(false) ?? enforced;
        Compare(identity, tool, args, null, enforced, candidate);
        await SettleAsync(enforced, candidate).ConfigureAwait(false);
        return new ShadowDecision(enforced, candidate);
    }

    /// <summary>Asynchronous <see cref="Evaluate(PolicyIdentity, string, IReadOnlyDictionary{string, JsonElement})"/>.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments by name.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores.</param>
    /// <returns>Both decisions.</returns>
    public async ValueTask<ShadowDecision> EvaluateAsync(PolicyIdentity identity, string tool, IReadOnlyDictionary<string, JsonElement>? args, CancellationToken cancellationToken = default)
    {
        var enforcedTask = Enforced.EvaluateAsync(identity, tool, args, cancellationToken);
        var candidateTask = ShadowAsync(Candidate.EvaluateAsync(identity, tool, args, cancellationToken));
        var enforced = await enforcedTask.ConfigureAwait(false);
        var candidate = await candidateTask.ConfigureAwait(false) ?? enforced;
        Compare(identity, tool, default, args, enforced, candidate);
        await SettleAsync(enforced, candidate).ConfigureAwait(false);
        return new ShadowDecision(enforced, candidate);
    }

    /// <summary>Commits (the call succeeded) or rolls back (it failed) what the call reserved, on both sides.</summary>
    /// <param name="decision">A value returned by this shadow evaluator.</param>
    /// <param name="succeeded">Whether the call succeeded.</param>
    public void Complete(ShadowDecision decision, bool succeeded)
    {
        Enforced.Complete(decision.Enforced, succeeded);
        Candidate.Complete(decision.Candidate, succeeded);
    }

    /// <summary>Asynchronous <see cref="Complete(ShadowDecision, bool)"/>.</summary>
    /// <param name="decision">A value returned by this shadow evaluator.</param>
    /// <param name="succeeded">Whether the call succeeded.</param>
    /// <param name="cancellationToken">Cancels the rollback.</param>
    /// <returns>A task that completes when both rollbacks are stored.</returns>
    public async ValueTask CompleteAsync(ShadowDecision decision, bool succeeded, CancellationToken cancellationToken = default)
    {
        await Enforced.CompleteAsync(decision.Enforced, succeeded, cancellationToken).ConfigureAwait(false);
        await Candidate.CompleteAsync(decision.Candidate, succeeded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Approves the call on the enforced side and, when the candidate also asked for approval of the same call, on the
    /// candidate's side: a person's answer applies to both, so the retried call is compared fairly.
    /// </summary>
    /// <param name="request">The request from an enforced <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    public void Approve(ApprovalRequest request)
    {
        Enforced.Approve(request);
        if (_pendingApprovals.TryRemove(request.Id, out var candidate))
        {
            Candidate.Approve(candidate.Request);
        }
    }

    /// <summary>Asynchronous <see cref="Approve(ApprovalRequest)"/>.</summary>
    /// <param name="request">The request from an enforced <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when both approvals are stored.</returns>
    public async ValueTask ApproveAsync(ApprovalRequest request, CancellationToken cancellationToken = default)
    {
        await Enforced.ApproveAsync(request, cancellationToken).ConfigureAwait(false);
        if (_pendingApprovals.TryRemove(request.Id, out var candidate))
        {
            await Candidate.ApproveAsync(candidate.Request, cancellationToken).ConfigureAwait(false);
        }
    }

    private Decision? EvaluateCandidate(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary)
    {
        try
        {
            return dictionary is null ? Candidate.Evaluate(identity, tool, args) : Candidate.Evaluate(identity, tool, dictionary);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The evaluator never throws for a call it can evaluate; a shadow must not turn anything into an exception.
            return null;
        }
    }

    private static async ValueTask<Decision?> ShadowAsync(ValueTask<Decision> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary>
    /// Settles the candidate's reservation now when the enforced decision means the call will not run yet: sent to a
    /// person (returned: it is charged when decided again), or refused (kept: under the candidate it would have run).
    /// An enforced allow leaves it to <see cref="Complete(ShadowDecision, bool)"/>.
    /// </summary>
    private void Settle(Decision enforced, Decision candidate)
    {
        if (candidate.HasReservation && enforced.Kind != DecisionKind.Allow)
        {
            Candidate.Complete(candidate, succeeded: enforced.Kind != DecisionKind.NeedsApproval);
        }
    }

    private ValueTask SettleAsync(Decision enforced, Decision candidate) =>
        candidate.HasReservation && enforced.Kind != DecisionKind.Allow
            ? Candidate.CompleteAsync(candidate, succeeded: enforced.Kind != DecisionKind.NeedsApproval, CancellationToken.None)
            : ValueTask.CompletedTask;

    /// <summary>Pairs approvals asked on both sides and reports a disagreement.</summary>
    private void Compare(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision enforced, Decision candidate)
    {
        if (enforced.Kind == DecisionKind.NeedsApproval && candidate.Kind == DecisionKind.NeedsApproval)
        {
            RememberApproval(enforced.Approval!, candidate.Approval!);
        }

        if (enforced.Kind != candidate.Kind)
        {
            Report(identity, tool, args, dictionary, enforced, candidate);
        }
    }

    private void Report(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision enforced, Decision candidate)
    {
        Interlocked.Increment(ref _disagreements);
        var kinds = DecisionKindNames.Of(enforced.Kind) + "->" + DecisionKindNames.Of(candidate.Kind);
        try
        {
            if (PolicyTelemetry.ShadowDisagreements.Enabled)
            {
                PolicyTelemetry.ShadowDisagreements.Add(
                    1,
                    new KeyValuePair<string, object?>("tool", tool),
                    new KeyValuePair<string, object?>("kinds", kinds));
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Observability is best effort.
        }

        if (Disagreement is not { } handlers)
        {
            return;
        }

        var (sha256, names) = DecisionObserver.Digest(args, dictionary);
        try
        {
            handlers(this, new ShadowDisagreement(_time.GetUtcNow(), identity.Id, tool, enforced, candidate, sha256, names));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A listener must not change or break a decision.
        }
    }

    private void RememberApproval(ApprovalRequest enforced, ApprovalRequest candidate)
    {
        var now = _time.GetUtcNow();
        if (_pendingApprovals.Count >= MaxPendingApprovals)
        {
            foreach (var (id, pending) in _pendingApprovals)
            {
                if (pending.Forget <= now)
                {
                    _pendingApprovals.TryRemove(id, out _);
                }
            }

            if (_pendingApprovals.Count >= MaxPendingApprovals)
            {
                // Bounded memory: unpaired, a later approval of this call shows up as a disagreement (allow vs needs_approval).
                return;
            }
        }

        _pendingApprovals[enforced.Id] = (candidate, now + PendingApprovalLifetime);
    }
}
