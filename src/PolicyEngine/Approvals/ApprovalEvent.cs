namespace PolicyEngine;

/// <summary>One transition of an approval, raised by <see cref="PolicyEvaluator.ApprovalChanged"/> for the audit trail.</summary>
public sealed class ApprovalEvent
{
    internal ApprovalEvent(DateTimeOffset at, ApprovalEventKind kind, string requestId, string tool, string identityId, PendingApproval? request = null, string? approverId = null, string? comment = null, ApprovalOutcome? outcome = null)
    {
        At = at;
        Kind = kind;
        RequestId = requestId;
        Tool = tool;
        IdentityId = identityId;
        Request = request;
        ApproverId = approverId;
        Comment = comment;
        Outcome = outcome;
    }

    /// <summary>When it happened (the evaluator's clock).</summary>
    public DateTimeOffset At { get; }

    /// <summary>What happened.</summary>
    public ApprovalEventKind Kind { get; }

    /// <summary>The request's id (<see cref="PendingApproval.Id"/>; for <see cref="ApprovalEventKind.Consumed"/>, the call's fingerprint).</summary>
    public string RequestId { get; }

    /// <summary>The tool of the call.</summary>
    public string Tool { get; }

    /// <summary>The identity that made the call.</summary>
    public string IdentityId { get; }

    /// <summary>The request after the transition, when known (never argument values beyond its opted-in preview).</summary>
    public PendingApproval? Request { get; }

    /// <summary>The approver who acted, for votes and refusals.</summary>
    public string? ApproverId { get; }

    /// <summary>The approver's comment, if any.</summary>
    public string? Comment { get; }

    /// <summary>The outcome of a vote or refusal.</summary>
    public ApprovalOutcome? Outcome { get; }
}
