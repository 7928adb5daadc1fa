namespace PolicyEngine;

/// <summary>
/// The window arithmetic of one <see cref="CounterRequest"/> at one instant, so that a store only implements storage:
/// a counter is a set of buckets keyed by start time; a call is admitted when the buckets it <see cref="Counts"/>, plus
/// <see cref="Amount"/>, stay within <see cref="Max"/>, and is charged to the bucket at <see cref="BucketStart"/>.
/// </summary>
/// <remarks>
/// <para>A fixed window is one bucket as long as the window, aligned to the Unix epoch (for <c>minute</c>, <c>hour</c>
/// and <c>day</c> that is the UTC calendar: Unix time has no leap seconds); a call counts its own window's bucket only.
/// A sliding window is split into <see cref="SlidingBuckets"/> buckets and counts every bucket that starts at or after
/// <see cref="ReadFrom"/>: the buckets that overlap the last window length, including the partly expired oldest one
/// (so it may refuse up to one bucket, a tenth of the window, early), and also any bucket newer than the call's own.</para>
/// <para>Out-of-order callers: concurrent callers read the clock before they reach the store, so a call stamped
/// +59.990 s may arrive after one stamped +60.010 s has charged the next bucket. Counting newer buckets is what keeps a
/// sliding limit exact whatever the arrival order: in any interval of one window length, the charge that reached the
/// store last counted every other charge of that interval (each starts at or after its <see cref="ReadFrom"/>), so
/// together they never exceed <see cref="Max"/>. That holds as long as those buckets are still stored, so a store that
/// prunes old buckets remembers the newest pruned start as the counter's horizon and refuses a call whose
/// <see cref="ReadFrom"/> is at or behind it (<see cref="IsBehind"/>): such a call is stamped about a window behind a
/// newer one, and is refused rather than counted against a partial history. A late fixed-window call is counted in its
/// own window, exactly as if it had arrived in order.</para>
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

    /// <summary>
    /// Buckets starting at or after this instant (Unix milliseconds) count toward <see cref="Max"/>: for a fixed window
    /// this is <see cref="BucketStart"/> (and only that bucket counts); see <see cref="Counts"/>.
    /// </summary>
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
        var window = LengthOf(request.Window);
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

    /// <summary>A window's length in whole milliseconds, at least one (the unit every slot counts in).</summary>
    internal static long LengthOf(TimeSpan window) => Math.Max(1, (long)window.TotalMilliseconds);

    /// <summary>The charge a reservation records for this slot.</summary>
    /// <returns>The charge.</returns>
    public CounterCharge ToCharge() => new(Key, Amount, BucketStart, ExpiresAt);

    /// <summary>
    /// Whether a stored bucket of this counter counts toward <see cref="Max"/> for this call: for a fixed window its
    /// own bucket only; for a sliding window every bucket from <see cref="ReadFrom"/> on, including buckets newer than
    /// <see cref="BucketStart"/> that callers stamped later have already charged.
    /// </summary>
    /// <param name="bucketStart">The start of a stored bucket (Unix milliseconds).</param>
    /// <returns><see langword="true"/> when the bucket's count is part of this call's total.</returns>
    public bool Counts(long bucketStart) => BucketLength == WindowLength ? bucketStart == BucketStart : bucketStart >= ReadFrom;

    /// <summary>
    /// Whether this call is stamped so far back that it would count buckets the store has pruned: its
    /// <see cref="ReadFrom"/> is at or behind the counter's horizon (the newest pruned bucket start). The store must
    /// refuse it (with <see cref="RetryAfter(long, long, ReadOnlySpan{ValueTuple{long, long}})"/>) rather than count it
    /// against a partial history.
    /// </summary>
    /// <param name="horizon">The newest pruned bucket start, or <see cref="long.MinValue"/> when nothing was pruned.</param>
    /// <returns><see langword="true"/> when the call must be refused.</returns>
    public bool IsBehind(long horizon) => ReadFrom <= horizon;

    /// <summary>
    /// How long until the request would fit, assuming no other charges: the time until enough of the oldest counted
    /// buckets stop counting. Exact for fixed windows; never optimistic for sliding ones.
    /// </summary>
    /// <param name="nowMs">The current time in Unix milliseconds.</param>
    /// <param name="buckets">The counter's stored buckets (start, count), in any order; see <see cref="RetryAfter(long, long, ReadOnlySpan{ValueTuple{long, long}})"/>.</param>
    /// <returns>The wait.</returns>
    public TimeSpan RetryAfter(long nowMs, ReadOnlySpan<(long Start, long Count)> buckets) => RetryAfter(nowMs, long.MinValue, buckets);

    /// <summary>
    /// How long until the request would fit, assuming no other charges: never optimistic (after waiting it, the same
    /// request is admitted unless something else was charged meanwhile), whatever the order in which earlier calls
    /// were stamped. A fixed window waits for the first later window, past the horizon, whose stored count leaves room
    /// (exactly the end of this window when nothing newer is stored); a sliding window waits until enough of the oldest
    /// counted buckets stop counting, and until its <see cref="ReadFrom"/> has passed the horizon.
    /// </summary>
    /// <param name="nowMs">The current time in Unix milliseconds.</param>
    /// <param name="horizon">The counter's newest pruned bucket start, or <see cref="long.MinValue"/> when nothing was pruned.</param>
    /// <param name="buckets">
    /// The counter's stored buckets (start, count), in any order, including buckets newer than <see cref="BucketStart"/>
    /// (a start may appear more than once: the counts add). Buckets before <see cref="ReadFrom"/> are ignored.
    /// </param>
    /// <returns>The wait.</returns>
    public TimeSpan RetryAfter(long nowMs, long horizon, ReadOnlySpan<(long Start, long Count)> buckets)
    {
        if (BucketLength == WindowLength)
        {
            // A later window whose bucket already holds too much (charged by callers stamped later than this one)
            // cannot admit it either: skip to the first one with room.
            var start = BucketStart + WindowLength;
            if (horizon != long.MinValue)
            {
                start = Math.Max(start, FloorTo(horizon, WindowLength) + WindowLength);
            }

            while (true)
            {
                long used = 0;
                var stored = false;
                foreach (var (bucket, count) in buckets)
                {
                    if (bucket == start)
                    {
                        used = SaturatingAdd(used, count);
                        stored = true;
                    }
                }

                if (!stored || Amount <= Max - used)
                {
                    return TimeSpan.FromMilliseconds(Math.Max(0, start - nowMs));
                }

                start += WindowLength;
            }
        }

        long total = 0;
        foreach (var (start, count) in buckets)
        {
            if (start >= ReadFrom)
            {
                total = SaturatingAdd(total, count);
            }
        }

        // Drop the oldest buckets until the amount fits; the wait is until the last dropped bucket stops counting,
        // which is one window after its end.
        var dropUntil = long.MinValue;
        var remaining = total;
        while (remaining > 0 && Amount > Max - remaining)
        {
            var oldest = long.MaxValue;
            foreach (var (start, _) in buckets)
            {
                if (start >= ReadFrom && start > dropUntil && start < oldest)
                {
                    oldest = start;
                }
            }

            if (oldest == long.MaxValue)
            {
                break;
            }

            foreach (var (start, count) in buckets)
            {
                if (start == oldest)
                {
                    remaining -= count;
                }
            }

            dropUntil = oldest;
        }

        var wait = dropUntil == long.MinValue ? 0 : dropUntil + BucketLength + WindowLength - nowMs;
        if (horizon != long.MinValue)
        {
            // ReadFrom passes the horizon once now - window reaches the end of the horizon's bucket.
            wait = Math.Max(wait, FloorTo(horizon, BucketLength) + BucketLength + WindowLength - nowMs);
        }

        return TimeSpan.FromMilliseconds(Math.Max(1, wait));
    }

    /// <summary>Adds without overflowing.</summary>
    /// <param name="a">A count.</param>
    /// <param name="b">Another count.</param>
    /// <returns>The sum, or <see cref="long.MaxValue"/>.</returns>
    public static long SaturatingAdd(long a, long b) => b > 0 && a > long.MaxValue - b ? long.MaxValue : a + b;

    private static long FloorTo(long value, long unit) => value >= 0 ? value / unit * unit : ((value - unit + 1) / unit) * unit;
}
