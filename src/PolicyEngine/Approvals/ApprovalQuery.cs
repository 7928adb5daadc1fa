namespace PolicyEngine;

/// <summary>Which requests <see cref="IApprovalQueue.ListAsync"/> returns: a filter and a page, newest first.</summary>
public sealed class ApprovalQuery
{
    /// <summary>The most requests one page may hold.</summary>
    public const int MaxLimit = 500;

    /// <summary>Only requests in this status (default <see cref="ApprovalStatus.Pending"/>); <see langword="null"/> for all.</summary>
    public ApprovalStatus? Status { get; init; } = ApprovalStatus.Pending;

    /// <summary>Only requests for this tool (exact, ordinal), or <see langword="null"/>.</summary>
    public string? Tool { get; init; }

    /// <summary>Only requests made by this identity id (exact, ordinal), or <see langword="null"/>.</summary>
    public string? IdentityId { get; init; }

    /// <summary>How many matching requests to skip (default 0).</summary>
    public int Offset { get; init; }

    /// <summary>How many to return at most (default 50, at most <see cref="MaxLimit"/>).</summary>
    public int Limit { get; init; } = 50;

    /// <summary>Whether <paramref name="request"/>, seen at <paramref name="now"/>, passes the filter.</summary>
    /// <param name="request">A stored request.</param>
    /// <param name="now">The current time (a pending request past its expiry counts as expired).</param>
    /// <returns><see langword="true"/> when it matches.</returns>
    public bool Matches(PendingApproval request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (Status is null || request.StatusAt(now) == Status)
            && (Tool is null || string.Equals(Tool, request.Tool, StringComparison.Ordinal))
            && (IdentityId is null || string.Equals(IdentityId, request.IdentityId, StringComparison.Ordinal));
    }

    /// <summary>Throws when the page is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The offset is negative or the limit is not in 1..<see cref="MaxLimit"/>.</exception>
    public void Validate()
    {
        if (Offset < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Offset), Offset, "the offset must not be negative");
        }

        if (Limit is < 1 or > MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(Limit), Limit, $"the limit must be between 1 and {MaxLimit}");
        }
    }
}
