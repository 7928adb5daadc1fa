using Microsoft.Extensions.Caching.Memory;

namespace PolicyEngine;

/// <summary>
/// The default <see cref="IApprovalStore"/>: approvals held in a <see cref="MemoryCache"/> whose absolute expiry is
/// the approval's ttl, so memory stays bounded. Single-use is enforced atomically per entry.
/// </summary>
public sealed class InMemoryApprovalStore : IApprovalStore, IDisposable
{
    private readonly MemoryCache _cache;
    private readonly TimeProvider _time;

    /// <summary>Creates an empty store.</summary>
    /// <param name="timeProvider">The clock used for cache expiry (defaults to the system clock).</param>
    public InMemoryApprovalStore(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        _cache = new MemoryCache(new MemoryCacheOptions { Clock = new TimeProviderClock(_time), SizeLimit = null });
    }

    /// <inheritdoc/>
    public void Grant(string requestId, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        _cache.Set(requestId, new Entry(expiresAt), expiresAt);
    }

    /// <inheritdoc/>
    public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        expiresAt = default;
        if (!_cache.TryGetValue(requestId, out Entry? entry) || entry is null)
        {
            return false;
        }

        // Only one caller may flip the entry from unused to used: an approval is single-use under any concurrency.
        if (Interlocked.Exchange(ref entry.Used, 1) != 0)
        {
            return false;
        }

        _cache.Remove(requestId);
        expiresAt = entry.ExpiresAt;
        return now < entry.ExpiresAt;
    }

    /// <inheritdoc/>
    public ValueTask GrantAsync(string requestId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        Grant(requestId, expiresAt);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var consumed = TryConsume(requestId, now, out var expiresAt);
        return ValueTask.FromResult((consumed, expiresAt));
    }

    /// <summary>Releases the cache.</summary>
    public void Dispose() => _cache.Dispose();

    private sealed class Entry(DateTimeOffset expiresAt)
    {
        public readonly DateTimeOffset ExpiresAt = expiresAt;
        public int Used;
    }

    private sealed class TimeProviderClock(TimeProvider time) : Microsoft.Extensions.Internal.ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
