namespace PolicyEngine;

/// <summary>Where a <see cref="PendingApproval"/> stands.</summary>
public enum ApprovalStatus
{
    /// <summary>Waiting for approvers.</summary>
    Pending,

    /// <summary>Approved by enough approvers: the exact call may run once, before the approval's ttl.</summary>
    Approved,

    /// <summary>Denied by an approver; final.</summary>
    Denied,

    /// <summary>Nobody decided before it expired; final.</summary>
    Expired,

    /// <summary>Approved, and the approved call has run (the approval is used up); final.</summary>
    Consumed,
}
