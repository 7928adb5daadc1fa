namespace PolicyEngine;

/// <summary>
/// The window arithmetic of one <see cref="CounterRequest"/> at one instant, so that a store only implements storage:
/// a counter is a set of buckets keyed by start time; a call is admitted when the buckets from <see cref="ReadFrom"/>
/// on, plus <see cref="Amount"/>, stay within <see cref="Max"/>, and is charged to the bucket at <see cref="BucketStart"/>.
/// </summary>
/// <remarks>
/// A fixed window is one bucket as long as the window, aligned to the Unix epoch (for <c>minute</c>, <c>hour</c> and
/// <c>day</c> that is the UTC calendar: Unix time has no leap seconds). A sliding window is split into
/// <see cref="SlidingBuckets"/> buckets and counts every bucket that overlaps the last window length, including the
/// partly expired oldest one: it may refuse up to one bucket (a tenth of the window) early, and never admits more
/// than <see cref="Max"/> in any interval of one window length.
/// </remarks>
public readonly record struct CounterSlot
{
    /// <summary>How many buckets a sliding window is split into.</summary>
    public const int SlidingBuckets = 10;

    /// <summary>The counter's storage key.</summary>
    public required string Key { get; init; }

    /// <summary>What the call adds.</summary>
    public required long Amount { get; init; }

    /// <summary>The most the counted buckets may hold.</summary>
    public required long Max { get; init; }

    /// <summary>The start of the bucket charged (Unix milliseconds).</summary>
    public required long BucketStart { get; init; }

    /// <summary>The length of one bucket in milliseconds.</summary>
    public required long BucketLength { get; init; }

    /// <summary>Buckets starting at or after this instant (Unix milliseconds) count toward <see cref="Max"/>.</summary>
    public required long ReadFrom { get; init; }

    /// <summary>When the charged bucket stops counting and may be deleted (Unix milliseconds).</summary>
    public required long ExpiresAt { get; init; }

    /// <summary>The length of the whole window in milliseconds.</summary>
    public required long WindowLength { get; init; }

    /// <summary>Computes the slot of a request at <paramref name="nowMs"/> (Unix milliseconds).</summary>
    /// <param name="request">The request.</param>
    /// <param name="nowMs">The current time in Unix milliseconds.</param>
    /// <returns>The slot.</returns>
    public static CounterSlot For(in CounterRequest request, long nowMs)
    {
        var window = Math.Max(1, (long)request.Window.TotalMilliseconds);
        if (request.Algorithm == LimitAlgorithm.Sliding && window >= SlidingBuckets)
        {
            var bucket = window / SlidingBuckets;
            var start = FloorTo(nowMs, bucket);
            return new CounterSlot
            {
                Key = request.Key,
                Amount = request.Amount,
                Max = request.Max,
                BucketStart = start,
                BucketLength = bucket,
                ReadFrom = FloorTo(nowMs - window, bucket),
                ExpiresAt = start + bucket + window,
                WindowLength = window,
            };
        }

        var windowStart = FloorTo(nowMs, window);
        return new CounterSlot
        {
            Key = request.Key,
            Amount = request.Amount,
            Max = request.Max,
            BucketStart = windowStart,
            BucketLength = window,
            ReadFrom = windowStart,
            ExpiresAt = windowStart + window,
            WindowLength = window,
        };
    }

    /// <summary>The charge a reservation records for this slot.</summary>
    /// <returns>The charge.</returns>
    public CounterCharge ToCharge() => new(Key, Amount, BucketStart, ExpiresAt);

    /// <summary>
    /// How long until the request would fit, assuming no other charges: the time until enough of the oldest counted
    /// buckets stop counting. Exact for fixed windows; never optimistic for sliding ones.
    /// </summary>
    /// <param name="nowMs">The current time in Unix milliseconds.</param>
    /// <param name="buckets">The counted buckets (start, count), in any order.</param>
    /// <returns>The wait.</returns>
    public TimeSpan RetryAfter(long nowMs, ReadOnlySpan<(long Start, long Count)> buckets)
    {
        if (BucketLength == WindowLength)
        {
            return TimeSpan.FromMilliseconds(Math.Max(0, BucketStart + WindowLength - nowMs));
        }

        long total = 0;
        foreach (var (_, count) in buckets)
        {
            total = SaturatingAdd(total, count);
        }

        // Drop the oldest buckets until the amount fits; the wait is until the last dropped bucket stops counting,
        // which is one window after its end.
        var dropUntil = long.MinValue;
        var remaining = total;
        while (remaining > 0 && Amount > Max - remaining)
        {
            var oldest = long.MaxValue;
            long oldestCount = 0;
            foreach (var (start, count) in buckets)
            {
                if (start > dropUntil && start < oldest)
                {
                    oldest = start;
                    oldestCount = count;
                }
            }

            if (oldest == long.MaxValue)
            {
                break;
            }

            dropUntil = oldest;
            remaining -= oldestCount;
        }

        var wait = dropUntil == long.MinValue ? 0 : dropUntil + BucketLength + WindowLength - nowMs;
        return TimeSpan.FromMilliseconds(Math.Max(BucketLength > 0 ? 1 : 0, wait));
    }

    /// <summary>Adds without overflowing.</summary>
    /// <param name="a">A count.</param>
    /// <param name="b">Another count.</param>
    /// <returns>The sum, or <see cref="long.MaxValue"/>.</returns>
    public static long SaturatingAdd(long a, long b) => b > 0 && a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long FloorTo(long value, long unit) => value >= 0 ? value / unit * unit : ((value - unit + 1) / unit) * unit;
}
