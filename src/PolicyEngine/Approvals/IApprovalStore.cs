namespace PolicyEngine;

/// <summary>
/// Where given approvals wait to be used. An approval is single-use and expires: <see cref="TryConsume"/> succeeds
/// at most once per <see cref="Approve"/>, and never at or after the expiry. Every method takes the time from the
/// caller (the evaluator's clock), so stores hold no clock of their own.
/// </summary>
public interface IApprovalStore
{
    /// <summary>Records that the call with fingerprint <paramref name="requestId"/> may run once before <paramref name="expiresAt"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="expiresAt">When the approval lapses.</param>
    void Approve(string requestId, DateTimeOffset now, DateTimeOffset expiresAt);

    /// <summary>Uses up the approval of <paramref name="requestId"/> if one is given and unexpired.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="expiresAt">When the consumed approval would have lapsed (to restore it if the call cannot run after all).</param>
    /// <returns><see langword="true"/> when an approval was consumed.</returns>
    bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt);

    /// <summary>Asynchronous <see cref="Approve"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="expiresAt">When the approval lapses.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the approval is recorded.</returns>
    ValueTask ApproveAsync(string requestId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Asynchronous <see cref="TryConsume"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether an approval was consumed, and when it would have lapsed.</returns>
    ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default);
}
