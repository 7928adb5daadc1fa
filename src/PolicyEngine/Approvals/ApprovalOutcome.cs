namespace PolicyEngine;

/// <summary>What an approve or deny did (see <see cref="ApprovalResult"/>).</summary>
public enum ApprovalOutcome
{
    /// <summary>The approval was counted; more distinct approvers must still approve.</summary>
    Recorded,

    /// <summary>Enough approvers approved: the exact call may now run once.</summary>
    Approved,

    /// <summary>The request was denied.</summary>
    Denied,

    /// <summary>No request has this id.</summary>
    NotFound,

    /// <summary>The request was already approved, denied or used; nothing changed.</summary>
    NotPending,

    /// <summary>The request expired before anyone decided; nothing was approved.</summary>
    Expired,

    /// <summary>This approver already voted on the request; approvers must be distinct.</summary>
    AlreadyVoted,

    /// <summary>The approver is the identity that made the call: nobody approves its own call.</summary>
    SelfApproval,

    /// <summary>The approver does not satisfy the rule's <c>approvers</c> (or the rule names none).</summary>
    NotAuthorized,

    /// <summary>The policy changed since the request was made: its approval could never be used.</summary>
    PolicyChanged,
}
