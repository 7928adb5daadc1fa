namespace PolicyEngine;

/// <summary>
/// The default <see cref="IApprovalQueue"/>: approvals and requests in this process's memory, under one lock (approval
/// traffic is people-paced). Memory stays bounded: given approvals leave at their expiry, requests leave
/// <see cref="HistoryRetention"/> after theirs, and at most <see cref="MaxRequests"/> requests are kept (a submit
/// beyond that fails, and the evaluator's caller fails closed).
/// </summary>
public sealed class InMemoryApprovalStore : IApprovalQueue, IDisposable
{
    /// <summary>How long a request stays in the history after it expires.</summary>
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromDays(1);

    private const int SweepEvery = 256;

    private readonly object _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _approved = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingApproval> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _byFingerprint = new(StringComparer.Ordinal);
    private int _writes;

    /// <summary>Creates an empty store.</summary>
    /// <param name="maxRequests">The most requests kept at once (default 10,000).</param>
    public InMemoryApprovalStore(int maxRequests = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRequests, 1);
        MaxRequests = maxRequests;
    }

    /// <summary>The most requests kept at once.</summary>
    public int MaxRequests { get; }

    /// <inheritdoc/>
    public void Approve(string requestId, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        lock (_gate)
        {
            Sweep(now);
            if (now >= expiresAt)
            {
                _approved.Remove(requestId);
                return;
            }

            _approved[requestId] = expiresAt;

            // A restored approval (its call could not run after all) makes its request usable again.
            if (_byFingerprint.TryGetValue(requestId, out var id) && _requests.TryGetValue(id, out var request) && request.Status == ApprovalStatus.Consumed)
            {
                _requests[id] = request.WithStatus(ApprovalStatus.Approved);
            }
        }
    }

    /// <inheritdoc/>
    public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        lock (_gate)
        {
            // Removed whatever the outcome: an expired approval is gone, a live one is used up, exactly once.
            if (!_approved.Remove(requestId, out expiresAt))
            {
                return false;
            }

            if (now >= expiresAt)
            {
                return false;
            }

            if (_byFingerprint.TryGetValue(requestId, out var id) && _requests.TryGetValue(id, out var request) && request.Status == ApprovalStatus.Approved)
            {
                _requests[id] = request.WithStatus(ApprovalStatus.Consumed);
            }

            return true;
        }
    }

    /// <inheritdoc/>
    public ValueTask ApproveAsync(string requestId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        Approve(requestId, now, expiresAt);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var consumed = TryConsume(requestId, now, out var expiresAt);
        return ValueTask.FromResult((consumed, expiresAt));
    }

    /// <inheritdoc/>
    public ValueTask<PendingApproval> SubmitAsync(PendingApproval request, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            Sweep(now);
            if (_byFingerprint.TryGetValue(request.Fingerprint, out var id)
                && _requests.TryGetValue(id, out var existing)
                && existing.StatusAt(now) == ApprovalStatus.Pending)
            {
                return ValueTask.FromResult(existing);
            }

            if (_requests.ContainsKey(request.Id))
            {
                throw new InvalidOperationException("a request with this id already exists");
            }

            if (_requests.Count >= MaxRequests)
            {
                Sweep(now, force: true);
                if (_requests.Count >= MaxRequests)
                {
                    throw new InvalidOperationException($"the approval queue is full ({MaxRequests} requests)");
                }
            }

            _requests[request.Id] = request;
            _byFingerprint[request.Fingerprint] = request.Id;
            return ValueTask.FromResult(request);
        }
    }

    /// <inheritdoc/>
    public ValueTask<PendingApproval?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        lock (_gate)
        {
            return ValueTask.FromResult(_requests.TryGetValue(id, out var request) ? request : null);
        }
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PendingApproval>> ListAsync(ApprovalQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        List<PendingApproval> matching;
        lock (_gate)
        {
            matching = [.. _requests.Values.Where(r => query.Matches(r, now))];
        }

        matching.Sort(NewestFirst);
        IReadOnlyList<PendingApproval> page = [.. matching.Skip(query.Offset).Take(query.Limit)];
        return ValueTask.FromResult(page);
    }

    /// <inheritdoc/>
    public ValueTask<ApprovalResult> DecideAsync(string id, ApprovalVote vote, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(vote);
        lock (_gate)
        {
            if (!_requests.TryGetValue(id, out var request))
            {
                return ValueTask.FromResult(new ApprovalResult(ApprovalOutcome.NotFound, null, changed: false));
            }

            var result = request.Decide(vote, now);
            if (result.Changed)
            {
                _requests[id] = result.Request!;
                if (result.Outcome == ApprovalOutcome.Approved)
                {
                    _approved[request.Fingerprint] = now + request.TimeToLive;
                    _byFingerprint[request.Fingerprint] = id;
                }
            }

            return ValueTask.FromResult(result);
        }
    }

    /// <summary>Nothing to release; kept so hosts that dispose the default store keep compiling.</summary>
    public void Dispose()
    {
    }

    /// <summary>Newest first; the id breaks ties so pages are stable.</summary>
    internal static int NewestFirst(PendingApproval a, PendingApproval b)
    {
        var byTime = b.CreatedAt.CompareTo(a.CreatedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
    }

    /// <summary>Drops expired approvals and requests past their history (every few writes, or when forced).</summary>
    private void Sweep(DateTimeOffset now, bool force = false)
    {
        if (!force && ++_writes % SweepEvery != 0)
        {
            return;
        }

        foreach (var (fingerprint, expiresAt) in _approved.ToArray())
        {
            if (now >= expiresAt)
            {
                _approved.Remove(fingerprint);
            }
        }

        foreach (var (id, request) in _requests.ToArray())
        {
            if (now >= request.ExpiresAt + HistoryRetention + request.TimeToLive)
            {
                _requests.Remove(id);
                if (_byFingerprint.TryGetValue(request.Fingerprint, out var current) && current == id)
                {
                    _byFingerprint.Remove(request.Fingerprint);
                }
            }
        }
    }
}
