namespace PolicyEngine;

/// <summary>The result of approving or denying a <see cref="PendingApproval"/>: what happened, and the request after it.</summary>
public sealed class ApprovalResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="outcome">What happened.</param>
    /// <param name="request">The request as it now stands (<see langword="null"/> for <see cref="ApprovalOutcome.NotFound"/>).</param>
    /// <param name="changed">Whether the request changed and must be stored.</param>
    public ApprovalResult(ApprovalOutcome outcome, PendingApproval? request, bool changed)
    {
        Outcome = outcome;
        Request = request;
        Changed = changed;
    }

    /// <summary>What happened.</summary>
    public ApprovalOutcome Outcome { get; }

    /// <summary>The request as it now stands, or <see langword="null"/> when none was found.</summary>
    public PendingApproval? Request { get; }

    /// <summary>Whether the request changed (a store writes it back only then).</summary>
    public bool Changed { get; }

    /// <summary>Whether the vote was taken (<see cref="ApprovalOutcome.Recorded"/>, <see cref="ApprovalOutcome.Approved"/> or <see cref="ApprovalOutcome.Denied"/>).</summary>
    public bool Succeeded => Outcome is ApprovalOutcome.Recorded or ApprovalOutcome.Approved or ApprovalOutcome.Denied;
}
