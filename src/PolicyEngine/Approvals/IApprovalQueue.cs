namespace PolicyEngine;

/// <summary>
/// An <see cref="IApprovalStore"/> that also keeps the requests waiting for approvers (see docs/approvals.md): submit,
/// read, list, and approve or deny. A request that reaches <see cref="ApprovalStatus.Approved"/> gives its call's
/// approval (<see cref="IApprovalStore.Approve"/>) in the same atomic step, and consuming that approval marks the
/// request <see cref="ApprovalStatus.Consumed"/>.
/// </summary>
/// <remarks>
/// Implementations make <see cref="DecideAsync"/> atomic per request: of concurrent votes, each sees the state left by
/// the one before, so of an approve and a deny racing on a one-approver request exactly one succeeds. They apply
/// <see cref="PendingApproval.Decide"/> for the transition itself. Authorisation (the policy's <c>approvers</c>) is the
/// evaluator's job (<see cref="PolicyEvaluator.ApproveAsync(string, PolicyIdentity, string, CancellationToken)"/>).
/// </remarks>
public interface IApprovalQueue : IApprovalStore
{
    /// <summary>
    /// Adds <paramref name="request"/>, unless a request for the same call (<see cref="PendingApproval.Fingerprint"/>)
    /// is still pending: then that one is returned, so an agent retrying a call keeps one request.
    /// </summary>
    /// <param name="request">The new request (status pending).</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored request: <paramref name="request"/> or the pending one for the same call.</returns>
    ValueTask<PendingApproval> SubmitAsync(PendingApproval request, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Reads one request.</summary>
    /// <param name="id">The request's <see cref="PendingApproval.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The request, or <see langword="null"/> when none has this id (or it was dropped from history).</returns>
    ValueTask<PendingApproval?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Lists requests matching <paramref name="query"/>, newest first, one page.</summary>
    /// <param name="query">Filter and page.</param>
    /// <param name="now">The current time (pending requests past their expiry are listed as expired).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The page.</returns>
    ValueTask<IReadOnlyList<PendingApproval>> ListAsync(ApprovalQuery query, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Applies one vote atomically (see <see cref="PendingApproval.Decide"/>).</summary>
    /// <param name="id">The request's <see cref="PendingApproval.Id"/>.</param>
    /// <param name="vote">The approver's vote.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened.</returns>
    ValueTask<ApprovalResult> DecideAsync(string id, ApprovalVote vote, DateTimeOffset now, CancellationToken cancellationToken = default);
}
