namespace PolicyEngine;

/// <summary>One approver's approve or deny of a <see cref="PendingApproval"/>.</summary>
public sealed class ApprovalVote
{
    /// <summary>The longest kept comment, in UTF-16 code units; longer comments are cut.</summary>
    public const int MaxCommentLength = 1000;

    /// <summary>Creates a vote.</summary>
    /// <param name="approverId">The approver's identity id.</param>
    /// <param name="approve"><see langword="true"/> to approve, <see langword="false"/> to deny.</param>
    /// <param name="comment">An optional comment (cut at <see cref="MaxCommentLength"/>).</param>
    /// <param name="at">When the approver acted.</param>
    public ApprovalVote(string approverId, bool approve, string? comment, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(approverId);
        ApproverId = approverId;
        Approve = approve;
        Comment = string.IsNullOrEmpty(comment) ? null : comment.Length > MaxCommentLength ? comment[..MaxCommentLength] : comment;
        At = at;
    }

    /// <summary>The approver's identity id.</summary>
    public string ApproverId { get; }

    /// <summary>Whether the approver approved (otherwise denied).</summary>
    public bool Approve { get; }

    /// <summary>The approver's comment, or <see langword="null"/>.</summary>
    public string? Comment { get; }

    /// <summary>When the approver acted.</summary>
    public DateTimeOffset At { get; }
}
