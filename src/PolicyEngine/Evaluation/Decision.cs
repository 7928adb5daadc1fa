using System.Diagnostics;
using System.Runtime.CompilerServices;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

/// <summary>
/// The outcome of <see cref="PolicyEvaluator.Evaluate(PolicyIdentity, string, System.Text.Json.JsonElement)"/>:
/// a result, not an exception. A small immutable value: its kind, reason and rule come from verdicts built once
/// when the policy is compiled, and what varies per call (a retry-after, the handle of reserved quota) travels in
/// the value itself, so returning a decision allocates nothing.
/// </summary>
/// <remarks>
/// <para>Copies of a decision are the same decision: completing any copy with
/// <see cref="PolicyEvaluator.Complete(Decision, bool)"/> completes it, and only the first completion counts.</para>
/// <para><c>default(Decision)</c> (one never returned by an evaluator) reads as a denial with rule
/// <see cref="BuiltInRules.NoDecision"/>: a value that was never decided is never an allow.</para>
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public readonly struct Decision : IEquatable<Decision>
{
    private readonly Verdict? _verdict;
    private readonly ReservationTicket? _ticket;

    // A rate-limited decision's retry-after in ticks, or an allow's ticket version: never both (24 bytes in all).
    private readonly long _value;

    internal Decision(Verdict verdict)
    {
        Debug.Assert(verdict.Kind != DecisionKind.RateLimited, "a rate-limited decision carries a retry-after");
        _verdict = verdict;
    }

    internal Decision(Verdict verdict, TimeSpan retryAfter)
    {
        Debug.Assert(verdict.Kind == DecisionKind.RateLimited, "only a rate-limited decision carries a retry-after");
        _verdict = verdict;
        _value = Math.Max(0, retryAfter.Ticks);
    }

    internal Decision(Verdict verdict, ReservationTicket ticket, long ticketVersion)
    {
        Debug.Assert(verdict.Kind == DecisionKind.Allow, "only an allow holds reserved quota");
        _verdict = verdict;
        _ticket = ticket;
        _value = ticketVersion;
    }

    /// <summary>Allow, deny, rate-limited or needs-approval.</summary>
    public DecisionKind Kind
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Verdict.Kind;
    }

    /// <summary><see langword="true"/> when the call may run.</summary>
    public bool IsAllowed
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Verdict.Kind == DecisionKind.Allow;
    }

    /// <summary>Text for the agent: why the call was denied, limited or needs approval; <see langword="null"/> for an allow.</summary>
    public string? Reason => Verdict.Reason;

    /// <summary>
    /// The JSON Pointer of the deciding rule (for example <c>/tools/create_refund/deny_if/0</c>), or one of
    /// <see cref="BuiltInRules"/>. For an allow, the matching tool entry (<c>/tools/x</c>) or <see cref="BuiltInRules.DefaultAllow"/>.
    /// </summary>
    public string? Rule => Verdict.Rule;

    /// <summary>The <see cref="Policy.Version"/> of the policy that made this decision (empty for <c>default(Decision)</c>).</summary>
    public string PolicyVersion => Verdict.PolicyVersion;

    /// <summary>For <see cref="DecisionKind.RateLimited"/>: how long until the call could be admitted; otherwise <see langword="null"/>.</summary>
    public TimeSpan? RetryAfter => Verdict.Kind == DecisionKind.RateLimited ? new TimeSpan(_value) : null;

    /// <summary>For <see cref="DecisionKind.NeedsApproval"/>: the request a person must approve.</summary>
    public ApprovalRequest? Approval => Verdict.Approval;

    /// <summary>
    /// <see langword="true"/> for an allow made while the counter store was unavailable and the host chose
    /// <see cref="StoreFailureMode.FailOpen"/>: the limits were not enforced for this call.
    /// </summary>
    public bool IsUnenforced => Verdict.IsUnenforced;

    /// <summary>
    /// <see langword="true"/> for an allow that reserved counter quota: pass it to
    /// <see cref="PolicyEvaluator.Complete(Decision, bool)"/> once the call has run, to keep the quota spent (it
    /// succeeded) or return it (it failed). Completing also recycles the decision's handle, so a host that completes
    /// every such decision allocates nothing per call.
    /// </summary>
    public bool HasReservation => _ticket is not null;

    internal Verdict Verdict
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _verdict ?? Verdict.NotDecided;
    }

    internal ReservationTicket? Ticket => _ticket;

    internal long TicketVersion => _value;

    /// <summary>
    /// For an allow that reserved counter quota and is not completed yet: what it reserved (the record
    /// <see cref="PolicyEvaluator.Complete(Decision, bool)"/> hands back to the store on a rollback). <see langword="null"/>
    /// when nothing was reserved or once the decision is completed. A single counter's charge is kept in place, so each
    /// read builds a new record: prefer <see cref="HasReservation"/> on hot paths.
    /// </summary>
    public CounterReservation? Reservation
    {
        get
        {
            if (_ticket is not { } ticket || Volatile.Read(ref ticket.Version) != _value)
            {
                return null;
            }

            // Read, then check the version again: a completion moves it on before the handle is cleared or reused,
            // so an unchanged version means what was read belongs to this decision.
            var reservation = ticket.Reservation;
            var charge = ticket.Charge;
            var grantKey = ticket.GrantKey;
            Interlocked.MemoryBarrier();
            return Volatile.Read(ref ticket.Version) != _value ? null : ReservationTicket.ToReservation(reservation, charge, grantKey);
        }
    }

    /// <summary>Whether both values are the same decision (the same verdict, retry-after and reservation handle).</summary>
    /// <param name="other">The other decision.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public bool Equals(Decision other) =>
        ReferenceEquals(Verdict, other.Verdict) && ReferenceEquals(_ticket, other._ticket) && _value == other._value;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Decision other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Verdict, _ticket, _value);

    /// <summary>Whether two values are the same decision.</summary>
    /// <param name="left">The first decision.</param>
    /// <param name="right">The second decision.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public static bool operator ==(Decision left, Decision right) => left.Equals(right);

    /// <summary>Whether two values are different decisions.</summary>
    /// <param name="left">The first decision.</param>
    /// <param name="right">The second decision.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(Decision left, Decision right) => !left.Equals(right);

    /// <summary>A one-line description for logs.</summary>
    /// <returns>The kind, the rule and the reason.</returns>
    public override string ToString() => Reason is null ? $"{Kind} {Rule}" : $"{Kind} {Rule}: {Reason}";
}
