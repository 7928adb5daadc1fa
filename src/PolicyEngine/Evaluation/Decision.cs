using System.Diagnostics;

namespace PolicyEngine;

/// <summary>
/// The outcome of <see cref="PolicyEvaluator.Evaluate(PolicyIdentity, string, System.Text.Json.JsonElement)"/>:
/// a result, not an exception. Decisions that depend only on the policy (most allows and denials) are built once
/// when the policy is compiled, so returning them allocates nothing.
/// </summary>
[DebuggerDisplay("{Kind} {Rule,nq}: {Reason,nq}")]
public sealed class Decision
{
    internal Decision(
        DecisionKind kind,
        string? reason,
        string? rule,
        string policyVersion,
        TimeSpan? retryAfter = null,
        ApprovalRequest? approval = null,
        CounterReservation? reservation = null,
        bool unenforced = false)
    {
        Debug.Assert(kind != DecisionKind.RateLimited || retryAfter is not null, "a rate-limited decision carries a retry-after");
        Debug.Assert(kind != DecisionKind.NeedsApproval || approval is not null, "an approval-pending decision carries its request");
        Kind = kind;
        Reason = reason;
        Rule = rule;
        PolicyVersion = policyVersion;
        RetryAfter = retryAfter;
        Approval = approval;
        Reservation = reservation;
        IsUnenforced = unenforced;
    }

    /// <summary>Allow, deny, rate-limited or needs-approval.</summary>
    public DecisionKind Kind { get; }

    /// <summary><see langword="true"/> when the call may run.</summary>
    public bool IsAllowed => Kind == DecisionKind.Allow;

    /// <summary>Text for the agent: why the call was denied, limited or needs approval; <see langword="null"/> for an allow.</summary>
    public string? Reason { get; }

    /// <summary>
    /// The JSON Pointer of the deciding rule (for example <c>/tools/create_refund/deny_if/0</c>), or one of
    /// <see cref="BuiltInRules"/>. For an allow, the matching tool entry (<c>/tools/x</c>) or <see cref="BuiltInRules.DefaultAllow"/>.
    /// </summary>
    public string? Rule { get; }

    /// <summary>The <see cref="Policy.Version"/> of the policy that made this decision.</summary>
    public string PolicyVersion { get; }

    /// <summary>For <see cref="DecisionKind.RateLimited"/>: how long until the call could be admitted.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>For <see cref="DecisionKind.NeedsApproval"/>: the request a person must approve.</summary>
    public ApprovalRequest? Approval { get; }

    /// <summary>
    /// For an allow that reserved counter quota: the reservation, committed or returned by
    /// <see cref="PolicyEvaluator.Complete(Decision, bool)"/>. <see langword="null"/> when nothing was reserved.
    /// </summary>
    public CounterReservation? Reservation { get; }

    /// <summary>
    /// <see langword="true"/> for an allow made while the counter store was unavailable and the host chose
    /// <see cref="StoreFailureMode.FailOpen"/>: the limits were not enforced for this call.
    /// </summary>
    public bool IsUnenforced { get; }

    /// <summary>A one-line description for logs.</summary>
    /// <returns>The kind, the rule and the reason.</returns>
    public override string ToString() => Reason is null ? $"{Kind} {Rule}" : $"{Kind} {Rule}: {Reason}";
}
