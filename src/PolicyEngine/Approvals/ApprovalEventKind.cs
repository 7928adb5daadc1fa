namespace PolicyEngine;

/// <summary>The kind of an <see cref="ApprovalEvent"/>.</summary>
public enum ApprovalEventKind
{
    /// <summary>A call was put in the queue (or found already waiting there).</summary>
    Requested,

    /// <summary>An approver approved, and more distinct approvers are still needed.</summary>
    Voted,

    /// <summary>The request is approved: its call may run once.</summary>
    Approved,

    /// <summary>An approver denied the request.</summary>
    Denied,

    /// <summary>A vote found the request expired.</summary>
    Expired,

    /// <summary>A vote was refused (not an approver, the caller itself, a repeated vote, not pending, policy changed).</summary>
    Refused,

    /// <summary>An approved call ran: its approval is used up.</summary>
    Consumed,
}
