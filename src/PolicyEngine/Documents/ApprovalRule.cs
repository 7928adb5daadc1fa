namespace PolicyEngine;

/// <summary>
/// <c>{ "when": [...], "reason": "...", "ttl": "15m", "approvers": [...], "min_approvers": 1, "on_pending": "...",
/// "preview": ["args.x"], "wait": "return" }</c> (version 2): calls for which every <see cref="When"/> predicate holds
/// need a person's approval; <see cref="Approvers"/> says who may give it (see docs/approvals.md).
/// </summary>
public sealed class ApprovalRule
{
    /// <summary>How long an approval lasts when the document sets no <c>ttl</c>.</summary>
    public static readonly TimeSpan DefaultTimeToLive = TimeSpan.FromMinutes(15);

    internal ApprovalRule(
        IReadOnlyList<PolicyPredicate>? when,
        string reason,
        string? ttl,
        TimeSpan timeToLive,
        IReadOnlyList<PolicyPredicate>? approvers = null,
        int? minApprovers = null,
        string? onPending = null,
        IReadOnlyList<string>? preview = null,
        ApprovalWaitMode? wait = null)
    {
        When = when;
        Reason = reason;
        TtlText = ttl;
        TimeToLive = timeToLive;
        Approvers = approvers;
        MinApprovers = minApprovers;
        OnPending = onPending;
        Preview = preview;
        Wait = wait;
    }

    /// <summary>The predicates that must all hold for approval to be needed; <see langword="null"/> means every call.</summary>
    public IReadOnlyList<PolicyPredicate>? When { get; }

    /// <summary>Why approval is needed, shown to the person asked.</summary>
    public string Reason { get; }

    /// <summary>The time to live as written, or <see langword="null"/> when the document leaves it out (printing keeps it out).</summary>
    internal string? TtlText { get; }

    /// <summary>How long a request and a granted approval stay usable: <c>ttl</c>, or <see cref="DefaultTimeToLive"/>.</summary>
    public TimeSpan TimeToLive { get; }

    /// <summary>
    /// Who may approve, as predicates over the approver's identity (<c>identity.</c> paths only) that must all hold,
    /// such as <c>identity.roles contains "security"</c>; <see langword="null"/> when the rule names none (then only
    /// the host, or the caller through elicitation, can approve). The caller never approves its own call.
    /// </summary>
    public IReadOnlyList<PolicyPredicate>? Approvers { get; }

    /// <summary>How many distinct approvers must approve, as written (<c>min_approvers</c>); <see langword="null"/> means 1.</summary>
    public int? MinApprovers { get; }

    /// <summary>What the agent is told while its call waits (<c>on_pending</c>); <see langword="null"/> for a generated text.</summary>
    public string? OnPending { get; }

    /// <summary>
    /// Argument paths (<c>args.…</c>) whose values approvers may see (<c>preview</c>); no other argument value is ever
    /// stored with a pending request.
    /// </summary>
    public IReadOnlyList<string>? Preview { get; }

    /// <summary>How the caller waits (<c>wait</c>); <see langword="null"/> leaves it to the host.</summary>
    public ApprovalWaitMode? Wait { get; }
}
