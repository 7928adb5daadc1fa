using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace PolicyEngine.Tests.Counters;

public class CounterSlotTests
{
    private const long MinUnixMs = -62_135_596_800_000; // 0001-01-01T00:00:00Z
    private const long MaxUnixMs = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

    private static CounterSlot Slot(long windowMs, long nowMs, LimitAlgorithm algorithm, long amount = 1, long max = 10) =>
        CounterSlot.For(new CounterRequest("k", amount, max, TimeSpan.FromMilliseconds(windowMs), algorithm), nowMs);

    private static long Mod(long value, long unit) => ((value % unit) + unit) % unit;

    /// <summary>Any instant a <see cref="DateTimeOffset"/> can hold, in Unix milliseconds, biased to interesting ones.</summary>
    private static Gen<long> Instants() =>
        Gen.OneOf(
            from day in Gen.Choose(-719_162, 2_932_896)
            from ms in Gen.Choose(0, 86_399_999)
            select (day * 86_400_000L) + ms,
            from day in Gen.Choose(19_000, 22_000)
            from edge in Gen.Elements(0L, 1L, 59_999L, 60_000L, 3_599_999L, 3_600_000L, 86_399_999L)
            select (day * 86_400_000L) + edge,
            Gen.Elements(0L, -1L, 1L, MinUnixMs, MaxUnixMs));

    private static Gen<long> WindowLengths() =>
        Gen.OneOf(
            Gen.Choose(1, 120).Select(w => (long)w),
            Gen.Choose(1, 100_000_000).Select(w => (long)w),
            Gen.Elements(1_000L, 30_000L, 60_000L, 3_600_000L, 86_400_000L, 172_800_000L, 315_360_000_000L));

    // ------------------------------------------------------------------ fixed windows

    [Property(MaxTest = 1_000)]
    public Property For_FixedWindow_StartsAtOrBeforeNowAndCoversIt()
    {
        return Prop.ForAll(Instants().ToArbitrary(), WindowLengths().ToArbitrary(), (now, window) =>
        {
            var slot = Slot(window, now, LimitAlgorithm.Fixed);
            Assert.True(slot.BucketStart <= now, $"start {slot.BucketStart} after now {now}");
            Assert.True(now < slot.BucketStart + window, $"window [{slot.BucketStart}, +{window}) misses {now}");
            Assert.Equal(0, Mod(slot.BucketStart, window));
            Assert.Equal(window, slot.BucketLength);
            Assert.Equal(window, slot.WindowLength);
            Assert.Equal(slot.BucketStart, slot.ReadFrom);
            Assert.Equal(slot.BucketStart + window, slot.ExpiresAt);
        });
    }

    [Property(MaxTest = 1_000)]
    public Property For_CalendarWindows_EqualTheUtcCalendar()
    {
        return Prop.ForAll(Instants().ToArbitrary(), Gen.Choose(-14 * 60, 14 * 60).ToArbitrary(), (nowMs, offsetMinutes) =>
        {
            // The instant may be written with any offset; the window follows UTC.
            var now = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
            if (nowMs + (offsetMinutes * 60_000L) is > MinUnixMs and < MaxUnixMs)
            {
                now = now.ToOffset(TimeSpan.FromMinutes(offsetMinutes));
            }

            var utc = now.UtcDateTime;
            var minute = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
            var hour = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
            var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
            var ms = now.ToUnixTimeMilliseconds();
            Assert.Equal(minute.ToUnixTimeMilliseconds(), Slot(60_000, ms, LimitAlgorithm.Fixed).BucketStart);
            Assert.Equal(hour.ToUnixTimeMilliseconds(), Slot(3_600_000, ms, LimitAlgorithm.Fixed).BucketStart);
            Assert.Equal(day.ToUnixTimeMilliseconds(), Slot(86_400_000, ms, LimitAlgorithm.Fixed).BucketStart);
            Assert.Equal(day.ToUnixTimeMilliseconds() + 86_400_000, Slot(86_400_000, ms, LimitAlgorithm.Fixed).ExpiresAt);
        });
    }

    [Theory]
    [InlineData("2026-03-14T23:59:59.999Z", "2026-03-14T00:00:00Z")]
    [InlineData("2026-03-15T00:00:00Z", "2026-03-15T00:00:00Z")]
    [InlineData("2026-03-15T05:29:59.999+05:30", "2026-03-14T00:00:00Z")]
    [InlineData("2026-03-14T19:00:00-05:00", "2026-03-15T00:00:00Z")]
    [InlineData("1969-12-31T23:59:59.999Z", "1969-12-31T00:00:00Z")]
    [InlineData("2028-02-29T12:00:00Z", "2028-02-29T00:00:00Z")]
    public void For_DayWindow_StartsAtUtcMidnight(string now, string expectedStart)
    {
        var slot = Slot(86_400_000, DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), LimitAlgorithm.Fixed);
        Assert.Equal(DateTimeOffset.Parse(expectedStart, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), slot.BucketStart);
    }

    [Fact]
    public void For_NegativeInstant_FloorsTowardsNegativeInfinity()
    {
        var slot = Slot(30_000, -1, LimitAlgorithm.Fixed);
        Assert.Equal(-30_000, slot.BucketStart);
        Assert.Equal(0, slot.ExpiresAt);
        Assert.Equal(0, Slot(30_000, 0, LimitAlgorithm.Fixed).BucketStart);
        Assert.Equal(-30_000, Slot(30_000, -30_000, LimitAlgorithm.Fixed).BucketStart);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(9_999L)]
    public void For_WindowShorterThanAMillisecond_IsOneMillisecond(long ticks)
    {
        var slot = CounterSlot.For(new CounterRequest("k", 1, 1, TimeSpan.FromTicks(ticks), LimitAlgorithm.Fixed), 1_234);
        Assert.Equal(1, slot.WindowLength);
        Assert.Equal(1_234, slot.BucketStart);
        Assert.Equal(1_235, slot.ExpiresAt);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(9L)]
    public void For_SlidingWindowShorterThanTenMilliseconds_IsAFixedWindow(long windowMs)
    {
        Assert.Equal(Slot(windowMs, 123_457, LimitAlgorithm.Fixed), Slot(windowMs, 123_457, LimitAlgorithm.Sliding));
    }

    [Property(MaxTest = 500)]
    public Property RetryAfter_FixedWindow_IsExactlyTheTimeToTheWindowEnd()
    {
        return Prop.ForAll(Instants().ToArbitrary(), WindowLengths().ToArbitrary(), (now, window) =>
        {
            var slot = Slot(window, now, LimitAlgorithm.Fixed);
            var retryAfter = slot.RetryAfter(now, [(slot.BucketStart, 10)]);
            Assert.Equal(TimeSpan.FromMilliseconds(slot.BucketStart + window - now), retryAfter);

            // At the window end a new window starts (and not a millisecond earlier).
            Assert.NotEqual(slot.BucketStart, Slot(window, now + (long)retryAfter.TotalMilliseconds, LimitAlgorithm.Fixed).BucketStart);
            Assert.Equal(slot.BucketStart, Slot(window, now + (long)retryAfter.TotalMilliseconds - 1, LimitAlgorithm.Fixed).BucketStart);
        });
    }

    // ------------------------------------------------------------------ sliding windows

    [Property(MaxTest = 1_000)]
    public Property For_SlidingWindow_BucketsCoverTheLastWindowLength()
    {
        return Prop.ForAll(Instants().ToArbitrary(), WindowLengths().Where(w => w >= 10).ToArbitrary(), (now, window) =>
        {
            var slot = Slot(window, now, LimitAlgorithm.Sliding);
            var bucket = window / CounterSlot.SlidingBuckets;
            Assert.Equal(bucket, slot.BucketLength);
            Assert.Equal(window, slot.WindowLength);
            Assert.True(slot.BucketStart <= now && now < slot.BucketStart + bucket);
            Assert.Equal(0, Mod(slot.BucketStart, bucket));

            // The oldest counted bucket contains now - window: every charge of the last window length is counted.
            Assert.True(slot.ReadFrom <= now - window && now - window < slot.ReadFrom + bucket);
            Assert.Equal(0, Mod(slot.ReadFrom, bucket));
            Assert.Equal(slot.BucketStart + bucket + window, slot.ExpiresAt);
        });
    }

    [Fact]
    public void For_SlidingMinute_HasSixSecondBuckets()
    {
        var now = new DateTimeOffset(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var slot = Slot(60_000, now, LimitAlgorithm.Sliding);
        Assert.Equal(6_000, slot.BucketLength);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 10, 0, 18, TimeSpan.Zero).ToUnixTimeMilliseconds(), slot.BucketStart);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 9, 59, 18, TimeSpan.Zero).ToUnixTimeMilliseconds(), slot.ReadFrom);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 10, 1, 24, TimeSpan.Zero).ToUnixTimeMilliseconds(), slot.ExpiresAt);
        Assert.Equal(new CounterCharge("k", 1, slot.BucketStart, slot.ExpiresAt), slot.ToCharge());
    }

    [Fact]
    public void RetryAfter_SlidingWithNothingCounted_IsTheSmallestWait()
    {
        var slot = Slot(60_000, 1_000_000, LimitAlgorithm.Sliding, amount: 20, max: 10);
        Assert.Equal(TimeSpan.FromMilliseconds(1), slot.RetryAfter(1_000_000, []));
    }

    [Fact]
    public void RetryAfter_Sliding_WaitsUntilEnoughOldBucketsStopCounting()
    {
        // Window 60 s, 6 s buckets; counted: 3 at 0 s, 4 at 12 s, 3 at 30 s; max 10, amount 5 → drop 0 s and 12 s.
        var now = 40_000L;
        var slot = Slot(60_000, now, LimitAlgorithm.Sliding, amount: 5, max: 10);
        var retryAfter = slot.RetryAfter(now, [(30_000, 3), (0, 3), (12_000, 4)]);

        // The 12 s bucket stops counting once now - 60 s reaches its end at 18 s, i.e. at 78 s.
        Assert.Equal(TimeSpan.FromMilliseconds(78_000 - now), retryAfter);
    }

    [Fact]
    public void Counts_SlidingWindow_IncludesNewerBucketsAndAFixedWindowOnlyItsOwn()
    {
        // A call stamped +59.995 s of a sliding minute charges the +54 s bucket and reads from -6 s on, newer buckets
        // (charged by callers stamped later that reached the store first) included.
        var sliding = Slot(60_000, 59_995, LimitAlgorithm.Sliding);
        Assert.True(sliding.Counts(60_000));
        Assert.True(sliding.Counts(54_000));
        Assert.True(sliding.Counts(-6_000));
        Assert.False(sliding.Counts(-12_000));

        var fixedWindow = Slot(60_000, 59_995, LimitAlgorithm.Fixed);
        Assert.True(fixedWindow.Counts(0));
        Assert.False(fixedWindow.Counts(60_000));
        Assert.False(fixedWindow.Counts(-60_000));
    }

    [Fact]
    public void RetryAfter_BehindTheHorizon_WaitsUntilReadFromPassesIt()
    {
        var sliding = Slot(60_000, 60_000, LimitAlgorithm.Sliding);
        Assert.True(sliding.IsBehind(0));
        Assert.True(sliding.IsBehind(30_000));
        Assert.False(sliding.IsBehind(-1));

        // Read-from passes the +30 s bucket once now - 60 s reaches its end, +36 s: at +96 s.
        Assert.Equal(TimeSpan.FromMilliseconds(36_000), sliding.RetryAfter(60_000, 30_000, []));

        // The later of the horizon and the buckets: the +90 s bucket stops counting at +156 s.
        Assert.Equal(TimeSpan.FromMilliseconds(96_000), sliding.RetryAfter(60_000, 30_000, [(90_000, 10)]));

        var fixedWindow = Slot(60_000, 59_000, LimitAlgorithm.Fixed);
        Assert.Equal(TimeSpan.FromMilliseconds(61_000), fixedWindow.RetryAfter(59_000, 60_000, []));
    }

    [Fact]
    public void RetryAfter_FixedWindowWithFullLaterWindows_WaitsForTheFirstWithRoom()
    {
        var slot = Slot(60_000, 59_000, LimitAlgorithm.Fixed, amount: 1, max: 2);
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), slot.RetryAfter(59_000, [(0, 2)]));
        Assert.Equal(TimeSpan.FromMilliseconds(1_000), slot.RetryAfter(59_000, [(0, 2), (60_000, 1)]));
        Assert.Equal(TimeSpan.FromMilliseconds(61_000), slot.RetryAfter(59_000, [(0, 2), (60_000, 2)]));
        Assert.Equal(TimeSpan.FromMilliseconds(121_000), slot.RetryAfter(59_000, [(0, 2), (60_000, 1), (60_000, 1), (120_000, 5)]));
    }

    [Fact]
    public void SaturatingAdd_NearLongMaxValue_Saturates()
    {
        Assert.Equal(long.MaxValue, CounterSlot.SaturatingAdd(long.MaxValue, 1));
        Assert.Equal(long.MaxValue, CounterSlot.SaturatingAdd(long.MaxValue - 1, 1));
        Assert.Equal(long.MaxValue, CounterSlot.SaturatingAdd(long.MaxValue / 2 + 1, long.MaxValue / 2 + 1));
        Assert.Equal(long.MaxValue - 1, CounterSlot.SaturatingAdd(long.MaxValue - 2, 1));
        Assert.Equal(5, CounterSlot.SaturatingAdd(5, 0));
    }

    /// <summary>One simulated run: a window, a max, and steps of (time advance, amount).</summary>
    public sealed record SlidingRun(long Window, long Max, (long Delta, long Amount)[] Steps)
    {
        public override string ToString() =>
            $"window {Window} ms, max {Max}, steps [{string.Join(", ", Steps.Select(s => $"+{s.Delta}:{s.Amount}"))}]";
    }

    private static Gen<SlidingRun> SlidingRuns() =>
        from window in Gen.OneOf(
            Gen.Choose(10, 40).Select(w => (long)w),
            Gen.Choose(100, 2_000).Select(w => (long)w),
            Gen.Elements(60_000L, 10_000L, 1_001L, 10_019L))
        from max in Gen.Choose(1, 12).Select(m => (long)m)
        from steps in (
            from delta in Gen.Frequency(
                (3, Gen.Constant(0L)),
                (6, Gen.Choose(1, (int)Math.Max(1, window / 5)).Select(d => (long)d)),
                (1, Gen.Choose(1, (int)(window * 2)).Select(d => (long)d)))
            from amount in Gen.Frequency((6, Gen.Constant(1L)), (3, Gen.Choose(0, (int)max).Select(a => (long)a)))
            select (delta, amount)).ArrayOf()
        select new SlidingRun(window, max, steps);

    /// <summary>
    /// Runs admissions through a minimal bucket store built on <see cref="CounterSlot"/> (what every store implements),
    /// and checks against a brute-force sliding log: no interval of one window length holds more than max, and every
    /// retry-after is never optimistic (admitted after it) and tight for the buckets (refused a millisecond before).
    /// </summary>
    [Property(MaxTest = 500)]
    public Property SlidingWindow_RandomAdmissions_NeverExceedMaxAndRetryAfterIsNeverOptimistic()
    {
        return Prop.ForAll(SlidingRuns().ToArbitrary(), run =>
        {
            var buckets = new Dictionary<long, long>();
            var admitted = new List<(long At, long Amount)>();
            var now = 1_773_482_420_250L + (run.Window * 3);
            foreach (var (delta, amount) in run.Steps)
            {
                now += delta;
                var request = new CounterRequest("k", amount, run.Max, TimeSpan.FromMilliseconds(run.Window), LimitAlgorithm.Sliding);
                var slot = CounterSlot.For(request, now);
                if (Fits(buckets, slot))
                {
                    buckets[slot.BucketStart] = buckets.GetValueOrDefault(slot.BucketStart) + amount;
                    admitted.Add((now, amount));
                    continue;
                }

                var counted = Counted(buckets, slot);
                var retryAfter = (long)slot.RetryAfter(now, counted).TotalMilliseconds;
                Assert.True(retryAfter >= 1, $"retry-after {retryAfter} ms at {now}");
                Assert.True(Fits(buckets, CounterSlot.For(request, now + retryAfter)), $"at {now}: refused again after waiting {retryAfter} ms");
                if (retryAfter > 1)
                {
                    Assert.False(Fits(buckets, CounterSlot.For(request, now + retryAfter - 1)), $"at {now}: retry-after {retryAfter} ms is longer than needed");
                }
            }

            foreach (var (at, _) in admitted)
            {
                long total = 0;
                foreach (var (other, amount) in admitted)
                {
                    if (other > at - run.Window && other <= at)
                    {
                        total += amount;
                    }
                }

                Assert.True(total <= run.Max, $"{total} admitted in the {run.Window} ms ending at {at}, max {run.Max}");
            }
        });
    }

    [Property(MaxTest = 300)]
    public Property SlidingWindow_RandomAdmissions_RefusesAtMostOneBucketEarlierThanTheSlidingLog()
    {
        // "May refuse up to one bucket early": whenever the bucket model refuses, the exact sliding log would refuse
        // too if the window were one bucket longer.
        return Prop.ForAll(SlidingRuns().ToArbitrary(), run =>
        {
            var buckets = new Dictionary<long, long>();
            var admitted = new List<(long At, long Amount)>();
            var now = 1_773_482_420_250L;
            foreach (var (delta, amount) in run.Steps)
            {
                now += delta;
                var slot = CounterSlot.For(new CounterRequest("k", amount, run.Max, TimeSpan.FromMilliseconds(run.Window), LimitAlgorithm.Sliding), now);
                if (Fits(buckets, slot))
                {
                    buckets[slot.BucketStart] = buckets.GetValueOrDefault(slot.BucketStart) + amount;
                    admitted.Add((now, amount));
                    continue;
                }

                long longerWindow = 0;
                foreach (var (at, a) in admitted)
                {
                    if (at > now - run.Window - slot.BucketLength && at <= now)
                    {
                        longerWindow += a;
                    }
                }

                Assert.True(longerWindow + amount > run.Max, $"refused at {now} though only {longerWindow} was admitted in the last window plus a bucket");
            }
        });
    }

    private static bool Fits(Dictionary<long, long> buckets, in CounterSlot slot)
    {
        long used = 0;
        foreach (var (start, count) in buckets)
        {
            if (slot.Counts(start))
            {
                used += count;
            }
        }

        return slot.Amount <= slot.Max - used;
    }

    private static (long Start, long Count)[] Counted(Dictionary<long, long> buckets, in CounterSlot slot)
    {
        var list = new List<(long, long)>();
        foreach (var (start, count) in buckets)
        {
            if (slot.Counts(start))
            {
                list.Add((start, count));
            }
        }

        return [.. list];
    }
}
