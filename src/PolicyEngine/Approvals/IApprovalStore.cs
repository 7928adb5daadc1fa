namespace PolicyEngine;

/// <summary>
/// Where granted approvals wait to be used. An approval is single-use and expires: <see cref="TryConsume"/> succeeds
/// at most once per <see cref="Grant"/>, and never after the expiry.
/// </summary>
public interface IApprovalStore
{
    /// <summary>Records that the call with fingerprint <paramref name="requestId"/> may run once before <paramref name="expiresAt"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="expiresAt">When the approval lapses.</param>
    void Grant(string requestId, DateTimeOffset expiresAt);

    /// <summary>Uses up the approval of <paramref name="requestId"/> if one is granted and unexpired.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="expiresAt">When the consumed approval would have lapsed (to restore it if the call cannot run after all).</param>
    /// <returns><see langword="true"/> when an approval was consumed.</returns>
    bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt);

    /// <summary>Asynchronous <see cref="Grant"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="expiresAt">When the approval lapses.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the approval is recorded.</returns>
    ValueTask GrantAsync(string requestId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Asynchronous <see cref="TryConsume"/>.</summary>
    /// <param name="requestId">The <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="now">The current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether an approval was consumed, and when it would have lapsed.</returns>
    ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default);
}
