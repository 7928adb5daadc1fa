namespace PolicyEngine;

/// <summary>
/// <c>{ "when": [...], "reason": "...", "ttl": "15m" }</c> (version 2): calls for which every <see cref="When"/>
/// predicate holds need a person's approval.
/// </summary>
public sealed class ApprovalRule
{
    /// <summary>How long an approval lasts when the document sets no <c>ttl</c>.</summary>
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(15);

    internal ApprovalRule(IReadOnlyList<PolicyPredicate>? when, string reason, string? ttl, TimeSpan timeToLive)
    {
        When = when;
        Reason = reason;
        Ttl = ttl;
        TimeToLive = timeToLive;
    }

    /// <summary>The predicates that must all hold for approval to be needed; <see langword="null"/> means every call.</summary>
    public IReadOnlyList<PolicyPredicate>? When { get; }

    /// <summary>Why approval is needed, shown to the person asked.</summary>
    public string Reason { get; }

    /// <summary>The time to live as written, or <see langword="null"/> for the default.</summary>
    public string? Ttl { get; }

    /// <summary>How long a granted approval stays usable.</summary>
    public TimeSpan TimeToLive { get; }
}
