using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Decisions;
using PolicyEngine.Diagnostics;

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
public sealed partial class PolicyEvaluator
{
    private readonly ICounterStore _counters;

    // The default store, when it is the one in use: its single-counter path takes a cell hint kept on the identity.
    private readonly InMemoryCounterStore? _memory;
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
    /// <param name="options">Failure mode and store timeout; validated and copied, so later changes have no effect.</param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public PolicyEvaluator(
        Policy policy,
        ICounterStore? counterStore = null,
        IApprovalStore? approvalStore = null,
        TimeProvider? timeProvider = null,
        PolicyEvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new PolicyEvaluatorOptions();
        Validate(options).ThrowIfAny();
        _policy = policy;
        _time = timeProvider ?? TimeProvider.System;
        _counters = counterStore ?? new InMemoryCounterStore();
        _memory = _counters as InMemoryCounterStore;
        _approvals = approvalStore ?? new InMemoryApprovalStore();
        _failureMode = options.StoreFailureMode;
        _storeTimeout = options.StoreTimeout;
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(PolicyEvaluatorOptions options)
    {
        var problems = new OptionsProblems(nameof(PolicyEvaluatorOptions));
        if (!Enum.IsDefined(options.StoreFailureMode))
        {
            problems.Add(nameof(options.StoreFailureMode), $"'{options.StoreFailureMode}' is unknown: use FailClosed or FailOpen");
        }

        if (options.StoreTimeout <= TimeSpan.Zero && options.StoreTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add(nameof(options.StoreTimeout), $"must be positive or Timeout.InfiniteTimeSpan (it is {options.StoreTimeout})");
        }

        return problems;
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
            // The arguments' kind is read once: a JsonElement's ValueKind is a lookup in its document.
            var argsAreObject = args.ValueKind is JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null;
            decision = policy.FixedDecision(tool, argsAreObject, identity, out var match) is { } settled
                ? new Decision(settled)
                : DecideSync(policy, match, identity, tool, args, null, argsAreObject);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Nothing escapes Evaluate: an element of a disposed JsonDocument throws on its first read.
            return Finish(identity, tool, default, null, new Decision(policy.UnreadableArguments));
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
            decision = policy.FixedDecision(tool, argsAreObject: true, identity, out var match) is { } settled
                ? new Decision(settled)
                : DecideSync(policy, match, identity, tool, default, args, argsAreObject: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A host's dictionary that throws while enumerated, or values of a disposed JsonDocument.
            return Finish(identity, tool, default, null, new Decision(policy.UnreadableArguments));
        }

        return Finish(identity, tool, default, args, decision);
    }

    /// <summary>Decides asynchronously, using the stores' asynchronous paths and the store timeout.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores (the decision then follows the failure mode).</param>
    /// <returns>The decision. Await it once: the task's state is recycled after it completes (like a socket's or a pipe's ValueTask).</returns>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
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
            return Finish(identity, tool, default, null, new Decision(policy.UnreadableArguments));
        }

        return Finish(identity, tool, args, null, decision);
    }

    /// <summary>Decides asynchronously, with arguments in the MCP SDK's shape.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The call's arguments by name; <see langword="null"/> means none.</param>
    /// <param name="cancellationToken">Cancels waiting for the stores.</param>
    /// <returns>The decision. Await it once (see the other overload).</returns>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
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
            return Finish(identity, tool, default, null, new Decision(policy.UnreadableArguments));
        }

        return Finish(identity, tool, default, args, decision);
    }

    /// <summary>Publishes the decision (metrics, tracing, <see cref="DecisionMade"/>) and returns it.</summary>
    private Decision Finish(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        if (DecisionObserver.Listening)
        {
            DecisionObserver.Observe(identity.Id, tool, decision);
        }

        if (DecisionMade is { } handlers)
        {
            Publish(handlers, identity, tool, args, dictionary, decision);
        }

        return decision;
    }

    private void Publish(EventHandler<DecisionEvent> handlers, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        var (sha256, names) = DecisionObserver.Digest(args, dictionary);
        try
        {
            handlers(this, new DecisionEvent(_time.GetUtcNow(), identity.Id, tool, decision, sha256, names));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Auditing must never change or break a decision; the host still learns that a handler failed.
            PolicyTelemetry.ReportCaught(ex, "listener");
        }
    }

    /// <summary>
    /// Commits (the call succeeded) or rolls back (it failed) what the decision reserved, and recycles the decision's
    /// handle. Only the first call for a decision (or any copy of it) has an effect, and only on the evaluator that made
    /// the decision (another evaluator ignores it); a rollback returns exactly what was reserved and never touches a
    /// later window. Decisions that reserved nothing (<see cref="Decision.HasReservation"/> is false) are ignored.
    /// Never throws for a store fault (the quota then stays spent: the safe side).
    /// </summary>
    /// <param name="decision">A decision returned by this evaluator.</param>
    /// <param name="succeeded">Whether the upstream call succeeded.</param>
    public void Complete(Decision decision, bool succeeded)
    {
        if (TakeReservation(decision, succeeded) is not { } rollback)
        {
            return;
        }

        try
        {
            _counters.Release(rollback, _time.GetUtcNow());
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
        if (TakeReservation(decision, succeeded) is not { } rollback)
        {
            return;
        }

        try
        {
            await _counters.ReleaseAsync(rollback, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Keeping the quota spent is the safe outcome of a failed rollback.
        }
    }

    /// <summary>
    /// Completes the decision's handle: the first completion of this evaluator's decision moves the ticket's version on
    /// (so every later one, from any copy, finds another version), takes what must be rolled back, and recycles the
    /// ticket. Returns what to release, or <see langword="null"/> when nothing is to be released.
    /// </summary>
    private CounterReservation? TakeReservation(in Decision decision, bool succeeded)
    {
        if (decision.Ticket is not { } ticket || !ReferenceEquals(ticket.Owner, this))
        {
            return null;
        }

        var version = decision.TicketVersion;
        if (Interlocked.CompareExchange(ref ticket.Version, version + 1, version) != version)
        {
            return null;
        }

        var rollback = succeeded ? null : ticket.ToReservation();
        TicketPool.Return(ticket);
        return rollback;
    }

    /// <summary>
    /// Approves the exact call described by <paramref name="request"/>: its next evaluation (same policy version,
    /// identity, tool and arguments) within the request's time to live proceeds, once. This is the host's own approval
    /// (after elicitation, say): it checks no <c>approvers</c>. Approvals by people go through
    /// <see cref="ApproveAsync(string, PolicyIdentity, string, CancellationToken)"/>, which does.
    /// </summary>
    /// <param name="request">The request from a <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    public void Approve(ApprovalRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        _approvals.Approve(request.Id, now, now + request.TimeToLive);
    }

    /// <summary>Asynchronous <see cref="Approve(ApprovalRequest)"/>.</summary>
    /// <param name="request">The request from a <see cref="DecisionKind.NeedsApproval"/> decision.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the approval is stored.</returns>
    public ValueTask ApproveAsync(ApprovalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        return _approvals.ApproveAsync(request.Id, now, now + request.TimeToLive, cancellationToken);
    }
}
