using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// Every scenario an <see cref="ICounterStore"/> must pass, whatever its storage (in memory, SQLite, Redis). A store's
/// test class inherits this one and implements <see cref="CreateStore"/>; scenarios use explicit instants (the store
/// takes <c>now</c> as a parameter), and every key carries a per-test prefix so stores sharing one database do not
/// see each other's counters.
/// </summary>
public abstract class CounterStoreContractTests : IAsyncDisposable
{
    /// <summary>An ordinary instant, 20.25 s into a UTC minute.</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    private readonly List<ICounterStore> _stores = [];
    private readonly string _prefix = "ct-" + Guid.NewGuid().ToString("N") + "/";

    /// <summary>Creates a new, empty store (or one whose keys cannot meet this test's keys).</summary>
    /// <returns>The store under test.</returns>
    protected abstract ICounterStore CreateStore();

    /// <summary>Releases a store created by <see cref="CreateStore"/> (close connections, delete files).</summary>
    /// <param name="store">The store.</param>
    /// <returns>A task that completes when the store is cleaned up.</returns>
    protected virtual ValueTask DisposeStoreAsync(ICounterStore store) =>
        store is IAsyncDisposable asyncDisposable ? asyncDisposable.DisposeAsync()
        : store is IDisposable disposable ? Dispose(disposable)
        : ValueTask.CompletedTask;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await DisposeStoreAsync(store);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// A known defect of the store under test: the reason when <paramref name="scenario"/> (a test method name) is
    /// expected to fail, so it is reported as skipped instead of hiding the scenario from every other store.
    /// </summary>
    /// <param name="scenario">The test method's name.</param>
    /// <returns>The bug, or <see langword="null"/> when the scenario must pass.</returns>
    protected virtual string? KnownBug(string scenario) => null;

    private void SkipIfKnownBug([System.Runtime.CompilerServices.CallerMemberName] string scenario = "")
    {
        if (KnownBug(scenario) is { } reason)
        {
            Assert.Skip("bug: " + reason);
        }
    }

    /// <summary>A store tracked for cleanup.</summary>
    protected ICounterStore NewStore()
    {
        var store = CreateStore();
        _stores.Add(store);
        return store;
    }

    /// <summary>A key unique to this test.</summary>
    protected string Key(string name) => _prefix + name;

    protected CounterRequest Fixed(string name, long amount, long max, TimeSpan window) =>
        new(Key(name), amount, max, window, LimitAlgorithm.Fixed);

    protected CounterRequest Sliding(string name, long amount, long max, TimeSpan window) =>
        new(Key(name), amount, max, window, LimitAlgorithm.Sliding);

    protected static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static ValueTask Dispose(IDisposable disposable)
    {
        disposable.Dispose();
        return ValueTask.CompletedTask;
    }

    private static CounterResult Reserve(ICounterStore store, DateTimeOffset now, params CounterRequest[] requests) => store.Reserve(requests, now);

    private static CounterResult Peek(ICounterStore store, DateTimeOffset now, params CounterRequest[] requests) => store.Peek(requests, now);

    /// <summary>How many single reservations of <paramref name="request"/> are admitted at <paramref name="now"/> (up to <paramref name="limit"/> tries).</summary>
    private static int Drain(ICounterStore store, DateTimeOffset now, CounterRequest request, int limit = 1_000)
    {
        var admitted = 0;
        for (var i = 0; i < limit; i++)
        {
            if (!store.Reserve([request], now).Admitted)
            {
                return admitted;
            }

            admitted++;
        }

        return admitted;
    }

    // ------------------------------------------------------------------ admission

    [Theory]
    [InlineData(LimitAlgorithm.Fixed, 1)]
    [InlineData(LimitAlgorithm.Fixed, 5)]
    [InlineData(LimitAlgorithm.Sliding, 1)]
    [InlineData(LimitAlgorithm.Sliding, 7)]
    public void Reserve_RepeatedCalls_AdmitsExactlyMaxThenRefuses(LimitAlgorithm algorithm, int max)
    {
        var store = NewStore();
        var request = new CounterRequest(Key("k"), 1, max, Minute, algorithm);
        for (var i = 0; i < max; i++)
        {
            var result = Reserve(store, T0, request);
            Assert.True(result.Admitted, $"call {i + 1} of {max}");
            Assert.Equal(-1, result.LimitingIndex);
            Assert.NotNull(result.Reservation);
        }

        var refused = Reserve(store, T0, request);
        Assert.False(refused.Admitted);
        Assert.Equal(0, refused.LimitingIndex);
        Assert.Null(refused.Reservation);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.False(Reserve(store, T0, request).Admitted);
    }

    [Fact]
    public void Reserve_Admitted_ReservationChargesEveryRequestInOrder()
    {
        var store = NewStore();
        var result = Reserve(store, T0, Fixed("a", 2, 10, Minute), Sliding("b", 3, 10, Minute), Fixed("c", 0, 10, Minute));

        Assert.True(result.Admitted);
        var charges = result.Reservation!.Charges;
        Assert.Equal(3, charges.Count);
        Assert.Equal((Key("a"), 2L), (charges[0].Key, charges[0].Amount));
        Assert.Equal((Key("b"), 3L), (charges[1].Key, charges[1].Amount));
        Assert.Equal((Key("c"), 0L), (charges[2].Key, charges[2].Amount));
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_OneCounter_ReservationNamesItsWindowAndRollsBack(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var request = new CounterRequest(Key("one"), 4, 5, Minute, algorithm);
        var result = Reserve(store, T0.AddSeconds(20), request);

        var charge = Assert.Single(result.Reservation!.Charges);
        var bucket = algorithm == LimitAlgorithm.Fixed ? 60_000 : 6_000;
        var expectedStart = T0.AddSeconds(20).ToUnixTimeMilliseconds() / bucket * bucket;
        Assert.Equal((Key("one"), 4L, expectedStart), (charge.Key, charge.Amount, charge.WindowStart));
        Assert.False(Reserve(store, T0.AddSeconds(21), request).Admitted);

        store.Release(result.Reservation, T0.AddSeconds(22));
        Assert.True(Reserve(store, T0.AddSeconds(23), request).Admitted);
    }

    [Fact]
    public void Reserve_NoRequests_IsAdmitted()
    {
        var store = NewStore();
        var result = store.Reserve([], T0);
        Assert.True(result.Admitted);
        Assert.Empty(result.Reservation?.Charges ?? []);
        Assert.True(store.Peek([], T0).Admitted);
    }

    // ------------------------------------------------------------------ retry-after

    [Theory]
    [InlineData(60_000, 20_250, 39_750)]
    [InlineData(3_600_000, 20_250, 3_579_750)]
    [InlineData(30_000, 20_250, 9_750)]
    [InlineData(60_000, 59_999, 1)]
    public void Reserve_FixedWindowFull_RetryAfterIsExactlyTimeToWindowEnd(long windowMs, long intoWindowMs, long expectedMs)
    {
        var store = NewStore();
        var window = TimeSpan.FromMilliseconds(windowMs);
        var windowStart = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);
        var now = windowStart.AddMilliseconds(intoWindowMs);
        var request = Fixed("k", 1, 2, window);
        Assert.Equal(2, Drain(store, now, request));

        var refused = Reserve(store, now, request);
        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), refused.RetryAfter);

        // Exact: one millisecond before is still refused, at retry-after it is admitted.
        Assert.False(Reserve(store, now + refused.RetryAfter - TimeSpan.FromMilliseconds(1), request).Admitted);
        Assert.True(Reserve(store, now + refused.RetryAfter, request).Admitted);
    }

    [Fact]
    public void Peek_FixedWindowFull_ReportsTheSameRetryAfterAsReserve()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 1, Minute);
        Assert.True(Reserve(store, T0, request).Admitted);

        var peek = Peek(store, T0.AddSeconds(5), request);
        var reserve = Reserve(store, T0.AddSeconds(5), request);
        Assert.False(peek.Admitted);
        Assert.Equal(0, peek.LimitingIndex);
        Assert.Equal(TimeSpan.FromMilliseconds(34_750), peek.RetryAfter);
        Assert.Equal(reserve.RetryAfter, peek.RetryAfter);
    }

    [Theory]
    [InlineData(60_000, 1, 1)]
    [InlineData(60_000, 5, 1)]
    [InlineData(60_000, 5, 3)]
    [InlineData(10_000, 4, 2)]
    [InlineData(1_000, 3, 1)]
    public void Reserve_SlidingWindowFull_AdmittedAfterWaitingRetryAfter(long windowMs, long max, long amount)
    {
        var store = NewStore();
        var window = TimeSpan.FromMilliseconds(windowMs);
        var now = T0;

        // Spread charges across several buckets, then fill.
        for (var i = 0; i < max; i++)
        {
            Assert.True(Reserve(store, now, Sliding("k", 1, max, window)).Admitted);
            now = now.AddMilliseconds(windowMs / 7);
        }

        var request = Sliding("k", amount, max, window);
        for (var attempt = 0; attempt < 3 * max; attempt++)
        {
            var refused = Reserve(store, now, request);
            if (refused.Admitted)
            {
                // Only possible after time passed; keep filling.
                now = now.AddMilliseconds(windowMs / 13);
                continue;
            }

            Assert.True(refused.RetryAfter > TimeSpan.Zero);
            Assert.True(refused.RetryAfter <= window + window, $"retry-after {refused.RetryAfter} exceeds two windows");
            now += refused.RetryAfter;
            Assert.True(Reserve(store, now, request).Admitted, $"refused again after waiting {refused.RetryAfter} (attempt {attempt})");
        }
    }

    [Theory]
    [InlineData(1, 60_000, 3, 1)]
    [InlineData(2, 60_000, 10, 3)]
    [InlineData(3, 10_000, 5, 2)]
    [InlineData(4, 1_000, 4, 4)]
    [InlineData(5, 90_000, 20, 7)]
    public void Reserve_SlidingWindow_NeverAdmitsMoreThanMaxInAnyWindowLength(int seed, long windowMs, long max, long maxAmount)
    {
        var store = NewStore();
        var random = new Random(seed);
        var admitted = new List<(long At, long Amount)>();
        var nowMs = T0.ToUnixTimeMilliseconds();
        for (var step = 0; step < 400; step++)
        {
            nowMs += random.Next(0, 3) == 0 ? 0 : random.NextInt64(1, windowMs / 4);
            var amount = random.NextInt64(0, maxAmount + 1);
            var now = DateTimeOffset.FromUnixTimeMilliseconds(nowMs);
            var request = Sliding("k", amount, max, TimeSpan.FromMilliseconds(windowMs));
            var result = Reserve(store, now, request);
            if (result.Admitted)
            {
                admitted.Add((nowMs, amount));
            }
            else if (random.Next(0, 2) == 0)
            {
                // Never optimistic: waiting the retry-after admits the call.
                nowMs += (long)result.RetryAfter.TotalMilliseconds;
                var retried = Reserve(store, DateTimeOffset.FromUnixTimeMilliseconds(nowMs), request);
                Assert.True(retried.Admitted, $"step {step}: still refused after waiting {result.RetryAfter}");
                admitted.Add((nowMs, amount));
            }
        }

        Assert.NotEmpty(admitted);
        foreach (var (at, _) in admitted)
        {
            long total = 0;
            foreach (var (other, amount) in admitted)
            {
                if (other > at - windowMs && other <= at)
                {
                    total += amount;
                }
            }

            Assert.True(total <= max, $"{total} admitted in the window ending at {at}, max {max}");
        }
    }

    [Fact]
    public void Reserve_SlidingWindowShorterThanOneHundredMilliseconds_NeverAdmitsMoreThanMax()
    {
        SkipIfKnownBug();

        // A 19 ms sliding window has 1 ms buckets, and up to 20 of them count at once.
        var store = NewStore();
        var admitted = new List<long>();
        var start = T0.ToUnixTimeMilliseconds();
        for (var ms = 0; ms < 200; ms++)
        {
            if (Reserve(store, DateTimeOffset.FromUnixTimeMilliseconds(start + ms), Sliding("k", 1, 19, TimeSpan.FromMilliseconds(19))).Admitted)
            {
                admitted.Add(start + ms);
            }
        }

        foreach (var at in admitted)
        {
            var inWindow = admitted.Count(other => other > at - 19 && other <= at);
            Assert.True(inWindow <= 19, $"{inWindow} admitted in the 19 ms ending at {at}");
        }
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_OutOfOrderInstants_NeverAdmitMoreThanMaxInOneWindow(LimitAlgorithm algorithm)
    {
        SkipIfKnownBug();

        // Concurrent callers read the clock before they reach the store, so a call stamped 10:00:59.999 can arrive just
        // after one stamped 10:01:00.000 (or, for a sliding minute, a minute and a bucket later).
        var store = NewStore();
        var request = new CounterRequest(Key("k"), 1, 1, Minute, algorithm);
        var first = new DateTimeOffset(2026, 3, 14, 10, 0, 30, TimeSpan.Zero);
        var late = algorithm == LimitAlgorithm.Fixed ? new DateTimeOffset(2026, 3, 14, 10, 0, 59, 999, TimeSpan.Zero) : first.AddSeconds(50);
        var next = algorithm == LimitAlgorithm.Fixed ? new DateTimeOffset(2026, 3, 14, 10, 1, 0, TimeSpan.Zero) : first.AddMinutes(2);

        Assert.True(Reserve(store, first, request).Admitted);
        Assert.True(Reserve(store, next, request).Admitted);
        Assert.False(Reserve(store, late, request).Admitted, "a second call was admitted in the first window");
    }

    [Fact]
    public void Peek_AtALaterInstant_ForgetsNothingCountedNow()
    {
        SkipIfKnownBug();
        var store = NewStore();
        var request = Fixed("k", 1, 1, Minute);
        Assert.True(Reserve(store, T0, request).Admitted);
        Assert.True(Peek(store, T0.AddMinutes(1), request).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(10), request).Admitted, "the peek at the next window erased this window's count");
    }

    // ------------------------------------------------------------------ out-of-order callers

    /// <summary>The start of a UTC minute (and of every window and sliding bucket of a minute or of ten seconds).</summary>
    protected static readonly DateTimeOffset MinuteStart = new(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);

    /// <summary><paramref name="ms"/> milliseconds after <see cref="MinuteStart"/>.</summary>
    protected static DateTimeOffset At(long ms) => MinuteStart.AddMilliseconds(ms);

    [Fact]
    public void Reserve_SlidingCallersStampedBeforeANewerCharge_AdmitAtMostMax()
    {
        // Issue 11: three callers read the clock at +59.990 s, +59.995 s and +60.010 s (a bucket boundary); the one
        // stamped +60.010 s reaches the store first. The two late ones must see its newer bucket.
        var store = NewStore();
        var request = Sliding("k", 1, 2, Minute);
        Assert.True(Reserve(store, At(60_010), request).Admitted);
        Assert.True(Reserve(store, At(59_990), request).Admitted);

        var peek = Peek(store, At(59_995), request);
        var third = Reserve(store, At(59_995), request);
        Assert.False(peek.Admitted, "peek: a third call fits in a minute holding two");
        Assert.False(third.Admitted, "a third call was admitted in a minute that already held two");
        Assert.Equal(third.RetryAfter, peek.RetryAfter);

        // Never optimistic, and tight: the +59.990 s charge (bucket +54 s) stops counting at +120 s.
        Assert.Equal(At(120_000), At(59_995) + third.RetryAfter);
        Assert.True(Peek(store, At(59_995) + third.RetryAfter, request).Admitted);
        Assert.False(Peek(store, At(59_995) + third.RetryAfter - TimeSpan.FromMilliseconds(1), request).Admitted);
    }

    public static TheoryData<LimitAlgorithm, long, long, long[]> BoundaryStamps => new()
    {
        // Around a sliding bucket boundary (the reported case), a bucket boundary and a window length apart, and a
        // window that is not a multiple of its bucket.
        { LimitAlgorithm.Sliding, 60_000, 2, [59_990, 59_995, 60_010] },
        { LimitAlgorithm.Sliding, 60_000, 2, [5_999, 6_000, 59_999, 60_000, 65_999] },
        { LimitAlgorithm.Sliding, 60_000, 1, [1_000, 60_999, 61_000, 66_000] },
        { LimitAlgorithm.Sliding, 10_000, 3, [9_990, 9_999, 10_000, 10_001, 19_999] },
        { LimitAlgorithm.Sliding, 10_019, 2, [1_001, 2_002, 11_019, 12_020] },
        { LimitAlgorithm.Fixed, 60_000, 2, [59_990, 59_995, 60_000, 60_010] },
        { LimitAlgorithm.Fixed, 60_000, 1, [59_999, 60_000, 60_001, 119_999] },
    };

    [Theory]
    [MemberData(nameof(BoundaryStamps))]
    public void Reserve_EveryArrivalOrderAroundBoundaries_NeverAdmitsMoreThanMax(LimitAlgorithm algorithm, long windowMs, long max, long[] stamps)
    {
        var store = NewStore();
        var window = TimeSpan.FromMilliseconds(windowMs);
        var order = 0;
        foreach (var permutation in Permutations(stamps))
        {
            var request = new CounterRequest(Key("p" + order++), 1, max, window, algorithm);
            var admitted = new List<(long At, long Amount)>();
            foreach (var stamp in permutation)
            {
                var peek = Peek(store, At(stamp), request);
                var result = Reserve(store, At(stamp), request);
                Assert.Equal(peek.Admitted, result.Admitted);
                if (result.Admitted)
                {
                    admitted.Add((At(stamp).ToUnixTimeMilliseconds(), 1));
                }
            }

            var context = $"arrival order [{string.Join(", ", permutation)}]";
            Assert.True(admitted.Count > 0, context + ": the first call was refused");
            Assert.Null(Overrun(admitted, algorithm, windowMs, max, context));
            if (algorithm == LimitAlgorithm.Fixed)
            {
                // Fixed windows stay exact in any order: each window admits min(max, the calls stamped in it).
                foreach (var group in permutation.GroupBy(stamp => Floor(At(stamp).ToUnixTimeMilliseconds(), windowMs)))
                {
                    Assert.Equal(Math.Min(max, group.Count()), admitted.Count(a => Floor(a.At, windowMs) == group.Key));
                }
            }
        }
    }

    [Fact]
    public void Reserve_FixedWindowCallerArrivingAfterTheNextWindowStarted_IsCountedInItsOwnWindowOnly()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 2, Minute);
        Assert.True(Reserve(store, At(60_000), request).Admitted);
        Assert.True(Reserve(store, At(60_001), request).Admitted);

        // Stamped in the first minute, arriving after the second filled: counted in the first minute only.
        Assert.True(Reserve(store, At(59_990), request).Admitted);
        Assert.True(Reserve(store, At(59_995), request).Admitted);
        var refused = Reserve(store, At(59_999), request);
        Assert.False(refused.Admitted);
        Assert.False(Reserve(store, At(60_002), request).Admitted, "the second minute admitted a third call");

        // The next minute is full too, so the first with room starts at +120 s.
        Assert.Equal(At(120_000), At(59_999) + refused.RetryAfter);
        Assert.Equal(refused.RetryAfter, Peek(store, At(59_999), request).RetryAfter);
        Assert.Equal(2, Drain(store, At(120_000), request));
    }

    [Fact]
    public void Reserve_LateMultiCounterReservation_CountsNewerBucketsOfEveryCounterAndChargesAllOrNone()
    {
        var store = NewStore();
        var a = Sliding("a", 1, 2, Minute);
        var b = Sliding("b", 1, 5, Minute);
        Assert.True(Reserve(store, At(60_010), a).Admitted);
        Assert.True(Reserve(store, At(59_990), b, a).Admitted);

        var refused = Reserve(store, At(59_995), b, a);
        Assert.False(refused.Admitted, "counter a admitted a third call in one minute");
        Assert.Equal(1, refused.LimitingIndex);
        Assert.Equal(4, Drain(store, At(60_020), b));

        // One counter named twice by a late reservation: both amounts and the newer bucket count.
        var c = Sliding("c", 1, 2, Minute);
        Assert.True(Reserve(store, At(60_010), c).Admitted);
        var twice = Reserve(store, At(59_990), c, c);
        Assert.False(twice.Admitted, "counter c admitted three calls in one minute");
        Assert.Equal(1, twice.LimitingIndex);
        Assert.True(Reserve(store, At(59_990), c).Admitted);
    }

    [Fact]
    public void Reserve_LateCallersAfterANewerCallerPrunedOldBuckets_AreRefusedWithRetryAfterThatAdmits()
    {
        var store = NewStore();
        var request = Sliding("k", 1, 1, Minute);
        Assert.True(Reserve(store, At(30_000), request).Admitted);

        // Three and a half minutes in: the +30 s bucket is pruned and becomes the counter's horizon.
        Assert.True(Reserve(store, At(210_000), request).Admitted);

        // Stamped less than a minute before the newest charge: it must count it.
        var near = Reserve(store, At(160_000), request);
        Assert.False(near.Admitted, "a call stamped 50 s before an admitted one was admitted with max 1");
        Assert.Equal(near.RetryAfter, Peek(store, At(160_000), request).RetryAfter);
        Assert.True(Peek(store, At(160_000) + near.RetryAfter, request).Admitted);
        Assert.False(Peek(store, At(160_000) + near.RetryAfter - TimeSpan.FromMilliseconds(1), request).Admitted);

        // Stamped so far back that it would count the pruned bucket: refused, and its retry-after waits past both the
        // horizon and the newest charge.
        var behind = Reserve(store, At(60_000), request);
        Assert.False(behind.Admitted, "a call stamped behind the pruned horizon was admitted");
        Assert.Equal(behind.RetryAfter, Peek(store, At(60_000), request).RetryAfter);
        Assert.True(Peek(store, At(60_000) + behind.RetryAfter, request).Admitted);
        Assert.False(Peek(store, At(60_000) + behind.RetryAfter - TimeSpan.FromMilliseconds(1), request).Admitted);
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_LateCallerAfterItsCounterWasCleanedUp_IsStillRefused(LimitAlgorithm algorithm)
    {
        // A store forgets a counter about a window after it stops counting (sweep, cleanup, time to live). A call stamped
        // so far back that it would have counted it arrives afterwards: refused, not admitted against an empty counter.
        var store = NewStore();
        var request = new CounterRequest(Key("k"), 1, 2, Minute, algorithm);
        Assert.True(Reserve(store, At(0), request).Admitted);
        Assert.True(Reserve(store, At(100), request).Admitted);
        for (var minute = 2; minute <= 5; minute++)
        {
            Assert.True(Reserve(store, At(minute * 60_000), Fixed("other" + minute, 1, 1, Minute)).Admitted);
        }

        var late = Reserve(store, At(30_000), request);
        Assert.False(late.Admitted, "a third call was admitted in the first minute after its counter was cleaned up");
        Assert.True(Peek(store, At(30_000) + late.RetryAfter, request).Admitted);
    }

    [Fact]
    public void Release_AfterOutOfOrderAdmits_ReturnsExactlyTheReservedAmountToItsOwnBucket()
    {
        var store = NewStore();
        var request = Sliding("k", 1, 2, Minute);
        var newer = Reserve(store, At(60_010), request).Reservation!;
        var late = Reserve(store, At(59_990), request).Reservation!;
        Assert.Equal(At(54_000).ToUnixTimeMilliseconds(), Assert.Single(late.Charges).WindowStart);
        Assert.False(Reserve(store, At(59_995), request).Admitted);

        // Exactly the late charge comes back: one more call fits, whichever side of the boundary it is stamped.
        store.Release(late, At(60_020));
        Assert.True(Reserve(store, At(59_995), request).Admitted);
        Assert.False(Reserve(store, At(60_030), request).Admitted);

        store.Release(newer, At(60_040));
        Assert.True(Reserve(store, At(60_050), request).Admitted);
        Assert.False(Reserve(store, At(59_999), request).Admitted);
        Assert.False(Reserve(store, At(60_060), request).Admitted);
    }

    [Fact]
    public void Release_LateFixedWindowChargeAfterItsWindowEnded_LeavesTheLaterWindowAlone()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 1, Minute);
        Assert.True(Reserve(store, At(60_000), request).Admitted);
        var late = Reserve(store, At(59_990), request).Reservation!;
        Assert.Equal(At(0).ToUnixTimeMilliseconds(), Assert.Single(late.Charges).WindowStart);

        store.Release(late, At(60_005));
        Assert.False(Reserve(store, At(60_010), request).Admitted, "the rollback of a first-minute charge gave quota to the second minute");
    }

    /// <summary>One call of a random run: its stamp (ms after the run's start), its amount, whether it then fails.</summary>
    public sealed record Arrival(long AtMs, long Amount, bool Fails);

    /// <summary>A random run: the limit, and calls in the order they reach the store (not the order of their stamps).</summary>
    public sealed record ArrivalRun(LimitAlgorithm Algorithm, long WindowMs, long Max, Arrival[] Arrivals)
    {
        public override string ToString() =>
            $"{Algorithm} {WindowMs} ms, max {Max}, arrivals [{string.Join(", ", Arrivals.Select(a => $"{a.AtMs}:{a.Amount}{(a.Fails ? "!" : "")}"))}]";
    }

    private static Gen<ArrivalRun> ArrivalRuns() =>
        from algorithm in Gen.Elements(LimitAlgorithm.Sliding, LimitAlgorithm.Fixed)
        from windowMs in Gen.Elements(60_000L, 10_000L, 1_000L, 10_019L, 20L)
        from max in Gen.Choose(1, 6).Select(m => (long)m)
        let bucket = Math.Max(1, windowMs / CounterSlot.SlidingBuckets)
        from arrivals in (
            from atMs in Gen.OneOf(
                Gen.Choose(0, (int)(3 * windowMs)).Select(ms => (long)ms),
                from index in Gen.Choose(1, 3 * CounterSlot.SlidingBuckets)
                from delta in Gen.Choose(-3, 3)
                select Math.Max(0, (index * bucket) + delta))
            from amount in Gen.Frequency((5, Gen.Constant(1L)), (2, Gen.Choose(0, (int)max + 1).Select(a => (long)a)))
            from fails in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
            from order in Gen.Choose(0, 1_000_000)
            select (Arrival: new Arrival(atMs, amount, fails), Order: order)).ArrayOf()
        select new ArrivalRun(algorithm, windowMs, max, [.. arrivals.Take(14).OrderBy(a => a.Order).Select(a => a.Arrival)]);

    [Fact]
    public void Reserve_RandomStampsInRandomArrivalOrder_NeverAdmitMoreThanMaxInAnyWindow()
    {
        var store = NewStore();
        var runs = 0;
        Prop.ForAll(ArrivalRuns().ToArbitrary(), run =>
        {
            var window = TimeSpan.FromMilliseconds(run.WindowMs);
            var request = new CounterRequest(Key("run" + runs++), 0, run.Max, window, run.Algorithm);
            var admitted = new List<(long At, long Amount)>();
            foreach (var arrival in run.Arrivals)
            {
                var now = At(arrival.AtMs);
                var call = request with { Amount = arrival.Amount };
                var peek = Peek(store, now, call);
                var result = Reserve(store, now, call);
                Assert.True(peek.Admitted == result.Admitted, $"{run}: at {arrival.AtMs} peek said {peek.Admitted}, reserve {result.Admitted}");
                if (result.Admitted)
                {
                    if (arrival.Fails)
                    {
                        store.Release(result.Reservation!, now);
                    }
                    else
                    {
                        admitted.Add((now.ToUnixTimeMilliseconds(), arrival.Amount));
                    }

                    continue;
                }

                Assert.Equal(result.RetryAfter, peek.RetryAfter);
                if (arrival.Amount <= run.Max)
                {
                    Assert.True(Peek(store, now + result.RetryAfter, call).Admitted, $"{run}: at {arrival.AtMs} refused again after waiting {result.RetryAfter}");
                }
            }

            Assert.Null(Overrun(admitted, run.Algorithm, run.WindowMs, run.Max, run.ToString()));
        }).QuickCheckThrowOnFailure();
    }

    /// <summary>
    /// Brute force over the admitted charges: the first window-length interval (sliding: any, ending at an admitted
    /// stamp, which is where the most recent of its charges lies; fixed: each epoch-aligned window) holding more
    /// than <paramref name="max"/>, described; <see langword="null"/> when there is none.
    /// </summary>
    private static string? Overrun(List<(long At, long Amount)> admitted, LimitAlgorithm algorithm, long windowMs, long max, string context)
    {
        var sliding = algorithm == LimitAlgorithm.Sliding && windowMs >= CounterSlot.SlidingBuckets;
        foreach (var (at, _) in admitted)
        {
            long total = 0;
            foreach (var (other, amount) in admitted)
            {
                var together = sliding ? other > at - windowMs && other <= at : Floor(other, windowMs) == Floor(at, windowMs);
                if (together)
                {
                    total += amount;
                }
            }

            if (total > max)
            {
                return $"{context}: {total} admitted in the {(sliding ? "window length ending at" : "fixed window holding")} {at}, max {max}";
            }
        }

        return null;
    }

    private static long Floor(long value, long unit) => value >= 0 ? value / unit * unit : ((value - unit + 1) / unit) * unit;

    private static IEnumerable<long[]> Permutations(long[] items)
    {
        if (items.Length <= 1)
        {
            yield return [.. items];
            yield break;
        }

        for (var i = 0; i < items.Length; i++)
        {
            long[] rest = [.. items[..i], .. items[(i + 1)..]];
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }

    // ------------------------------------------------------------------ window roll-over

    public static TheoryData<string, long> CalendarBoundaries => new()
    {
        { "2026-03-14T10:01:00Z", 60_000 },
        { "2026-03-14T11:00:00Z", 3_600_000 },
        { "2026-03-15T00:00:00Z", 86_400_000 },
        { "2027-01-01T00:00:00Z", 86_400_000 },
        { "2028-02-29T00:00:00Z", 86_400_000 },
        { "1969-12-31T00:00:00Z", 86_400_000 },
    };

    [Theory]
    [MemberData(nameof(CalendarBoundaries))]
    public void Reserve_CalendarWindow_ResetsExactlyAtTheUtcBoundary(string boundaryText, long windowMs)
    {
        var store = NewStore();
        var boundary = DateTimeOffset.Parse(boundaryText, System.Globalization.CultureInfo.InvariantCulture);
        var request = Fixed("k", 1, 3, TimeSpan.FromMilliseconds(windowMs));

        // Fill the window that ends at the boundary, expressed in a non-UTC offset: alignment follows UTC, not the offset.
        var lastMoment = boundary.AddMilliseconds(-1).ToOffset(TimeSpan.FromHours(5.5));
        Assert.Equal(3, Drain(store, boundary.AddMilliseconds(-windowMs), request, 1) + Drain(store, lastMoment, request));
        var refused = Reserve(store, lastMoment, request);
        Assert.False(refused.Admitted);
        Assert.Equal(TimeSpan.FromMilliseconds(1), refused.RetryAfter);

        // The next window starts empty at the boundary, again in another offset.
        Assert.Equal(3, Drain(store, boundary.ToOffset(TimeSpan.FromHours(-8)), request));
    }

    [Theory]
    [InlineData(30_000)]
    [InlineData(7_000)]
    [InlineData(5_400_000)]
    [InlineData(172_800_000)]
    public void Reserve_DurationWindow_IsAlignedToTheUnixEpoch(long windowMs)
    {
        var store = NewStore();
        var request = Fixed("k", 1, 2, TimeSpan.FromMilliseconds(windowMs));
        var nowMs = T0.ToUnixTimeMilliseconds();
        var windowEnd = (nowMs / windowMs + 1) * windowMs;

        Assert.Equal(2, Drain(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd - windowMs), request, 1)
            + Drain(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd - 1), request));
        Assert.False(Reserve(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd - 1), request).Admitted);
        Assert.Equal(2, Drain(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd), request));
        Assert.False(Reserve(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd + windowMs - 1), request).Admitted);
        Assert.True(Reserve(store, DateTimeOffset.FromUnixTimeMilliseconds(windowEnd + windowMs), request).Admitted);
    }

    [Fact]
    public void Reserve_FixedWindow_NoCarryOverAcrossManyWindows()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 3, TimeSpan.FromSeconds(30));
        var start = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);
        for (var window = 0; window < 20; window++)
        {
            var at = start.AddSeconds(30 * window + (window % 30));
            Assert.Equal(3, Drain(store, at, request));
        }
    }

    [Fact]
    public void Reserve_SlidingWindow_EmptiesAfterOneWindowAndABucket()
    {
        var store = NewStore();
        var request = Sliding("k", 1, 4, Minute);
        Assert.Equal(4, Drain(store, T0, request));
        Assert.False(Reserve(store, T0.AddSeconds(59), request).Admitted);

        // Conservative by at most one bucket (a tenth of the window).
        Assert.Equal(4, Drain(store, T0 + Minute + TimeSpan.FromSeconds(6), request));
    }

    // ------------------------------------------------------------------ atomicity

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_OneCounterFull_ChargesNoneOfThem(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        CounterRequest Make(string name, long amount, long max) => new(Key(name), amount, max, Minute, algorithm);
        Assert.True(Reserve(store, T0, Make("full", 2, 2)).Admitted);

        for (var i = 0; i < 5; i++)
        {
            var refused = Reserve(store, T0, Make("a", 1, 5), Make("b", 2, 5), Make("full", 1, 2), Make("c", 3, 5));
            Assert.False(refused.Admitted);
            Assert.Equal(2, refused.LimitingIndex);
            Assert.Null(refused.Reservation);
        }

        // a, b and c still have their whole quota.
        Assert.True(Reserve(store, T0, Make("a", 5, 5), Make("b", 5, 5), Make("c", 5, 5)).Admitted);
        Assert.False(Reserve(store, T0, Make("a", 1, 5)).Admitted);
        Assert.False(Reserve(store, T0, Make("b", 1, 5)).Admitted);
        Assert.False(Reserve(store, T0, Make("c", 1, 5)).Admitted);
    }

    [Fact]
    public void Reserve_FirstOfSeveralFull_ReportsItsIndexAndRetryAfter()
    {
        var store = NewStore();
        Assert.True(Reserve(store, T0, Fixed("hourly", 1, 1, TimeSpan.FromHours(1))).Admitted);

        var refused = Reserve(store, T0, Fixed("minutely", 1, 5, Minute), Fixed("hourly", 1, 1, TimeSpan.FromHours(1)));
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 11, 0, 0, TimeSpan.Zero) - T0, refused.RetryAfter);
        Assert.Equal(5, Drain(store, T0, Fixed("minutely", 1, 5, Minute)));
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_SameKeyTwice_CountsBothAmounts(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var three = new CounterRequest(Key("k"), 3, 5, Minute, algorithm);
        var two = new CounterRequest(Key("k"), 2, 5, Minute, algorithm);

        var refused = Reserve(store, T0, three, three);
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.False(Peek(store, T0, three, three).Admitted);

        Assert.True(Peek(store, T0, three, two).Admitted);
        Assert.True(Reserve(store, T0, three, two).Admitted);
        Assert.False(Reserve(store, T0, new CounterRequest(Key("k"), 1, 5, Minute, algorithm)).Admitted);
    }

    [Fact]
    public void Release_SameKeyTwice_ReturnsBothAmounts()
    {
        var store = NewStore();
        var reservation = Reserve(store, T0, Fixed("k", 3, 5, Minute), Fixed("k", 2, 5, Minute)).Reservation!;
        store.Release(reservation, T0.AddSeconds(1));
        Assert.Equal(5, Drain(store, T0.AddSeconds(2), Fixed("k", 1, 5, Minute)));
    }

    // ------------------------------------------------------------------ concurrency

    [Theory]
    [InlineData(LimitAlgorithm.Fixed, 1)]
    [InlineData(LimitAlgorithm.Fixed, 250)]
    [InlineData(LimitAlgorithm.Sliding, 250)]
    public void Reserve_ManyThreads_AdmitExactlyMax(LimitAlgorithm algorithm, int max)
    {
        const int Threads = 8;
        const int PerThread = 100;
        var store = NewStore();
        var request = new CounterRequest(Key("k"), 1, max, Minute, algorithm);
        var admitted = 0;
        using var barrier = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (var t = 0; t < Threads; t++)
        {
            threads[t] = new Thread(() =>
            {
                barrier.SignalAndWait();
                for (var i = 0; i < PerThread; i++)
                {
                    if (store.Reserve([request], T0).Admitted)
                    {
                        Interlocked.Increment(ref admitted);
                    }
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a reserving thread did not finish");
        }

        Assert.Equal(Math.Min(max, Threads * PerThread), admitted);
        Assert.False(Reserve(store, T0, request).Admitted);
    }

    [Fact]
    public async Task Reserve_ConcurrentMultiKeyInOppositeOrders_NeverDeadlocksAndCountsExactly()
    {
        const int Workers = 8;
        const int PerWorker = 200;
        var store = NewStore();
        var keys = new[] { "a", "b", "c", "d" };
        var perKey = new int[keys.Length];
        var tasks = new Task[Workers];
        for (var w = 0; w < Workers; w++)
        {
            var worker = w;
            tasks[w] = Task.Factory.StartNew(
                () =>
                {
                    for (var i = 0; i < PerWorker; i++)
                    {
                        // Alternate directions and overlapping subsets: a→b→c→d, d→c→b→a, b→a, c→d…
                        var first = (worker + i) % keys.Length;
                        var second = (first + (worker % 2 == 0 ? 1 : keys.Length - 1)) % keys.Length;
                        var third = (second + (i % 2 == 0 ? 1 : keys.Length - 1)) % keys.Length;
                        CounterRequest[] requests = [Fixed(keys[first], 1, 1_000_000, Minute), Fixed(keys[second], 1, 1_000_000, Minute), Fixed(keys[third], 1, 1_000_000, Minute)];
                        var result = store.Reserve(requests, T0);
                        Assert.True(result.Admitted);
                        Interlocked.Increment(ref perKey[first]);
                        Interlocked.Increment(ref perKey[second]);
                        Interlocked.Increment(ref perKey[third]);
                        if (i % 3 == 0)
                        {
                            store.Release(result.Reservation!, T0);
                            Interlocked.Decrement(ref perKey[first]);
                            Interlocked.Decrement(ref perKey[second]);
                            Interlocked.Decrement(ref perKey[third]);
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        for (var k = 0; k < keys.Length; k++)
        {
            // The counter holds exactly what was charged and not returned: exactly that much room is left.
            var used = perKey[k];
            Assert.True(Reserve(store, T0, Fixed(keys[k], 1_000_000 - used, 1_000_000, Minute)).Admitted);
            Assert.False(Reserve(store, T0, Fixed(keys[k], 1, 1_000_000, Minute)).Admitted);
        }
    }

    [Fact]
    public async Task Reserve_ConcurrentReservationsSharingOneFullCounter_ChargeNothingElse()
    {
        var store = NewStore();
        const int Max = 50;
        var admitted = 0;
        var tasks = new Task[8];
        for (var w = 0; w < tasks.Length; w++)
        {
            var own = "own" + w;
            tasks[w] = Task.Run(
                () =>
                {
                    for (var i = 0; i < 40; i++)
                    {
                        if (store.Reserve([Fixed(own, 1, 1_000, Minute), Fixed("shared", 1, Max, Minute)], T0).Admitted)
                        {
                            Interlocked.Increment(ref admitted);
                        }
                    }
                },
                TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(Max, admitted);

        long ownTotal = 0;
        for (var w = 0; w < tasks.Length; w++)
        {
            var room = Drain(store, T0, Fixed("own" + w, 1, 1_000, Minute), 2_000);
            ownTotal += 1_000 - room;
        }

        Assert.Equal(Max, ownTotal);
    }

    // ------------------------------------------------------------------ rollback

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Release_ReturnsExactlyTheReservedAmounts(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        CounterRequest Make(string name, long amount) => new(Key(name), amount, 10, Minute, algorithm);
        Assert.True(Reserve(store, T0, Make("a", 4), Make("b", 1)).Admitted);
        var reservation = Reserve(store, T0.AddSeconds(1), Make("a", 3), Make("b", 6)).Reservation!;
        Assert.True(Reserve(store, T0.AddSeconds(2), Make("a", 3), Make("b", 3)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(2), Make("a", 1)).Admitted);

        store.Release(reservation, T0.AddSeconds(3));

        // a: 10 - 4 - 3 = 3 room; b: 10 - 1 - 3 = 6 room. Exactly.
        Assert.True(Reserve(store, T0.AddSeconds(4), Make("a", 3), Make("b", 6)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(4), Make("a", 1)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(4), Make("b", 1)).Admitted);
    }

    [Fact]
    public void Release_AfterTheWindowEnded_ChangesNothingInTheLaterWindow()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 2, Minute);
        var old = Reserve(store, T0, request).Reservation!;
        Assert.True(Reserve(store, T0, request).Admitted);

        var nextWindow = new DateTimeOffset(2026, 3, 14, 10, 1, 0, TimeSpan.Zero);
        Assert.Equal(2, Drain(store, nextWindow, request));
        store.Release(old, nextWindow.AddSeconds(1));
        Assert.False(Reserve(store, nextWindow.AddSeconds(2), request).Admitted);
    }

    [Fact]
    public void Release_AfterTheWindowEndedWithTheLaterWindowUntouched_LeavesItsFullQuota()
    {
        var store = NewStore();
        var request = Fixed("k", 3, 3, Minute);
        var old = Reserve(store, T0, request).Reservation!;
        store.Release(old, T0.AddMinutes(1));

        // A refund must not turn into credit: the later window still admits exactly max.
        Assert.True(Reserve(store, T0.AddMinutes(1), request).Admitted);
        Assert.False(Reserve(store, T0.AddMinutes(1), Fixed("k", 1, 3, Minute)).Admitted);
    }

    [Fact]
    public void Release_InTheLastMillisecondOfTheWindow_StillReturnsTheQuota()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 1, Minute);
        var reservation = Reserve(store, T0, request).Reservation!;
        var last = new DateTimeOffset(2026, 3, 14, 10, 0, 59, 999, TimeSpan.Zero);
        store.Release(reservation, last);
        Assert.True(Reserve(store, last, request).Admitted);
    }

    [Fact]
    public void Release_SlidingWindowWhileStillCounted_ReturnsTheQuota()
    {
        var store = NewStore();
        var request = Sliding("k", 2, 4, Minute);
        var first = Reserve(store, T0, request).Reservation!;
        Assert.True(Reserve(store, T0.AddSeconds(30), request).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(40), request).Admitted);

        store.Release(first, T0.AddSeconds(45));
        Assert.True(Reserve(store, T0.AddSeconds(45), request).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(45), Sliding("k", 1, 4, Minute)).Admitted);
    }

    [Fact]
    public void Release_SlidingWindowAfterTheBucketStoppedCounting_ChangesNothing()
    {
        var store = NewStore();
        var request = Sliding("k", 1, 2, Minute);
        var old = Reserve(store, T0, request).Reservation!;

        // Two windows later the old charge no longer counts; fill the current window.
        var later = T0.AddMinutes(2);
        Assert.Equal(2, Drain(store, later, request));
        store.Release(old, later.AddSeconds(1));
        Assert.False(Reserve(store, later.AddSeconds(1), request).Admitted);
    }

    [Fact]
    public void Release_OneOfSeveralReservations_ReturnsOnlyItsShare()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 3, Minute);
        var reservations = new CounterReservation[3];
        for (var i = 0; i < 3; i++)
        {
            reservations[i] = Reserve(store, T0, request).Reservation!;
        }

        store.Release(reservations[1], T0.AddSeconds(1));
        Assert.Equal(1, Drain(store, T0.AddSeconds(2), request));
    }

    // ------------------------------------------------------------------ key isolation

    public static TheoryData<string, string> DistinctKeys => new()
    {
        { "caf\u00E9", "cafe\u0301" },
        { "\u212B", "\u00C5" },
        { "a:b", "a" },
        { "a:b", "a:" },
        { "a|b", "a" },
        { "a\0b", "a" },
        { "a\0", "a" },
        { "Key", "key" },
        { "k ", "k" },
        { "1:a|60000f|1:b", "1:a|60000f|1:c" },
        { "\uD83D\uDE00", "\uD83D\uDE01" },
        { "x", new string('x', 2) },
    };

    [Theory]
    [MemberData(nameof(DistinctKeys))]
    public void Reserve_DifferentKeys_NeverShareCounts(string first, string second)
    {
        var store = NewStore();
        Assert.Equal(2, Drain(store, T0, Fixed(first, 1, 2, Minute)));
        Assert.Equal(2, Drain(store, T0, Fixed(second, 1, 2, Minute)));
        Assert.Equal(0, Drain(store, T0, Fixed(first, 1, 2, Minute)));
    }

    [Fact]
    public void Reserve_ManyDistinctKeys_EachHasItsOwnQuota()
    {
        var store = NewStore();
        var builder = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            builder.Append((char)('a' + (i % 26)));
            Assert.True(Reserve(store, T0, Fixed(builder.ToString(), 1, 1, Minute)).Admitted);
        }

        Assert.True(Reserve(store, T0, Fixed(new string('k', 10_000), 1, 1, Minute)).Admitted);
        Assert.False(Reserve(store, T0, Fixed(new string('k', 10_000), 1, 1, Minute)).Admitted);
        Assert.True(Reserve(store, T0, Fixed(new string('k', 9_999), 1, 1, Minute)).Admitted);
    }

    // ------------------------------------------------------------------ cost amounts

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_AmountZero_AlwaysFits(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var zero = new CounterRequest(Key("k"), 0, 3, Minute, algorithm);
        Assert.True(Reserve(store, T0, zero).Admitted);
        Assert.True(Reserve(store, T0, new CounterRequest(Key("k"), 3, 3, Minute, algorithm)).Admitted);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(Reserve(store, T0, zero).Admitted);
            Assert.True(Peek(store, T0, zero).Admitted);
        }
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_AmountEqualToMax_FitsOnce(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var all = new CounterRequest(Key("k"), 1_000, 1_000, Minute, algorithm);
        Assert.True(Reserve(store, T0, all).Admitted);
        Assert.False(Reserve(store, T0, all).Admitted);
        Assert.False(Reserve(store, T0, new CounterRequest(Key("k"), 1, 1_000, Minute, algorithm)).Admitted);
    }

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_AmountAboveRemaining_RefusesAndChargesNothing(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        CounterRequest Make(long amount) => new(Key("k"), amount, 100, Minute, algorithm);
        Assert.True(Reserve(store, T0, Make(60)).Admitted);
        Assert.False(Reserve(store, T0, Make(41)).Admitted);
        Assert.False(Reserve(store, T0, Make(101)).Admitted);
        Assert.False(Reserve(store, T0, Make(long.MaxValue)).Admitted);
        Assert.True(Reserve(store, T0, Make(40)).Admitted);
        Assert.False(Reserve(store, T0, Make(1)).Admitted);
    }

    [Fact]
    public void Reserve_AmountAboveMaxOnAnEmptyCounter_Refuses()
    {
        var store = NewStore();
        var refused = Reserve(store, T0, Fixed("k", 6, 5, Minute));
        Assert.False(refused.Admitted);
        Assert.Equal(0, refused.LimitingIndex);
        Assert.Equal(5, Drain(store, T0, Fixed("k", 1, 5, Minute)));
    }

    // ------------------------------------------------------------------ large counts

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Reserve_MaxIsLongMaxValue_IsExactWithoutOverflow(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        CounterRequest Make(long amount) => new(Key("k"), amount, long.MaxValue, Minute, algorithm);
        Assert.True(Reserve(store, T0, Make(long.MaxValue - 1)).Admitted);
        Assert.False(Reserve(store, T0, Make(2)).Admitted);
        Assert.False(Reserve(store, T0, Make(long.MaxValue)).Admitted);
        var last = Reserve(store, T0.AddSeconds(20), Make(1));
        Assert.True(last.Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(21), Make(1)).Admitted);
        Assert.True(Reserve(store, T0.AddSeconds(21), Make(0)).Admitted);

        store.Release(last.Reservation!, T0.AddSeconds(22));
        Assert.True(Reserve(store, T0.AddSeconds(22), Make(1)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(22), Make(1)).Admitted);
    }

    [Fact]
    public void Reserve_HugeAmountsInSeveralSlidingBuckets_NeverWrapAround()
    {
        var store = NewStore();
        const long Half = (long.MaxValue / 2) + 1;
        CounterRequest Make(long amount) => Sliding("k", amount, long.MaxValue, Minute);
        Assert.True(Reserve(store, T0, Make(Half)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(10), Make(Half)).Admitted);
        Assert.True(Reserve(store, T0.AddSeconds(20), Make(long.MaxValue - Half)).Admitted);
        Assert.False(Reserve(store, T0.AddSeconds(30), Make(1)).Admitted);
        Assert.False(Peek(store, T0.AddSeconds(30), Make(long.MaxValue)).Admitted);
    }

    [Fact]
    public void Reserve_MaxIsLongMaxValueInOneReservation_SameKeyTwiceNoOverflow()
    {
        var store = NewStore();
        var refused = Reserve(store, T0, Fixed("k", long.MaxValue, long.MaxValue, Minute), Fixed("k", long.MaxValue, long.MaxValue, Minute));
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.True(Reserve(store, T0, Fixed("k", long.MaxValue, long.MaxValue, Minute)).Admitted);
    }

    // ------------------------------------------------------------------ peek

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public void Peek_NeverCharges(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var request = new CounterRequest(Key("k"), 1, 3, Minute, algorithm);
        for (var i = 0; i < 50; i++)
        {
            var peek = Peek(store, T0, request, new CounterRequest(Key("other"), 2, 2, Minute, algorithm));
            Assert.True(peek.Admitted);
            Assert.Null(peek.Reservation);
        }

        Assert.Equal(3, Drain(store, T0, request));
        Assert.True(Reserve(store, T0, new CounterRequest(Key("other"), 2, 2, Minute, algorithm)).Admitted);
    }

    [Fact]
    public void Peek_RefusedMultiKey_ReportsTheLimitingIndexAndChargesNothing()
    {
        var store = NewStore();
        Assert.True(Reserve(store, T0, Fixed("full", 1, 1, Minute)).Admitted);
        var peek = Peek(store, T0, Fixed("a", 1, 1, Minute), Fixed("full", 1, 1, Minute));
        Assert.False(peek.Admitted);
        Assert.Equal(1, peek.LimitingIndex);
        Assert.True(Reserve(store, T0, Fixed("a", 1, 1, Minute)).Admitted);
    }

    // ------------------------------------------------------------------ async

    [Theory]
    [InlineData(LimitAlgorithm.Fixed)]
    [InlineData(LimitAlgorithm.Sliding)]
    public async Task ReserveAsync_BehavesLikeReserve(LimitAlgorithm algorithm)
    {
        var store = NewStore();
        var ct = TestContext.Current.CancellationToken;
        var request = new CounterRequest(Key("k"), 1, 3, Minute, algorithm);
        CounterReservation? first = null;
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await store.PeekAsync([request], T0, ct)).Admitted);
            var result = await store.ReserveAsync([request], T0, ct);
            Assert.True(result.Admitted);
            first ??= result.Reservation;
        }

        var refusedAsync = await store.ReserveAsync([request], T0, ct);
        var peekAsync = await store.PeekAsync([request], T0, ct);
        var refusedSync = store.Reserve([request], T0);
        Assert.False(refusedAsync.Admitted);
        Assert.False(peekAsync.Admitted);
        Assert.Equal(refusedSync.RetryAfter, refusedAsync.RetryAfter);
        Assert.Equal(refusedSync.RetryAfter, peekAsync.RetryAfter);
        Assert.Equal(0, refusedAsync.LimitingIndex);

        await store.ReleaseAsync(first!, T0.AddSeconds(1), ct);
        Assert.True(store.Reserve([request], T0.AddSeconds(1)).Admitted);
        Assert.False((await store.ReserveAsync([request], T0.AddSeconds(1), ct)).Admitted);
    }

    [Fact]
    public async Task ReserveAsync_OneCounterFull_ChargesNoneOfThem()
    {
        var store = NewStore();
        var ct = TestContext.Current.CancellationToken;
        Assert.True((await store.ReserveAsync([Fixed("full", 1, 1, Minute)], T0, ct)).Admitted);
        var refused = await store.ReserveAsync([Fixed("a", 1, 1, Minute), Fixed("full", 1, 1, Minute)], T0, ct);
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.True((await store.ReserveAsync([Fixed("a", 1, 1, Minute)], T0, ct)).Admitted);
    }

    [Fact]
    public async Task ReleaseAsync_AfterTheWindowEnded_ChangesNothing()
    {
        var store = NewStore();
        var ct = TestContext.Current.CancellationToken;
        var request = Fixed("k", 1, 1, Minute);
        var old = (await store.ReserveAsync([request], T0, ct)).Reservation!;
        var next = T0.AddMinutes(1);
        Assert.True((await store.ReserveAsync([request], next, ct)).Admitted);
        await store.ReleaseAsync(old, next, ct);
        Assert.False((await store.ReserveAsync([request], next, ct)).Admitted);
    }

    [Fact]
    public async Task ReserveAsync_ManyConcurrentTasks_AdmitExactlyMax()
    {
        var store = NewStore();
        var request = Fixed("k", 1, 100, Minute);
        var admitted = 0;
        var tasks = new Task[8];
        for (var w = 0; w < tasks.Length; w++)
        {
            tasks[w] = Task.Run(
                async () =>
                {
                    for (var i = 0; i < 50; i++)
                    {
                        if ((await store.ReserveAsync([request], T0)).Admitted)
                        {
                            Interlocked.Increment(ref admitted);
                        }
                    }
                },
                TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal(100, admitted);
    }

    /// <summary>Arguments no store accepts, refused the same way by every store (the <see cref="CounterStore"/> checks), sync and async.</summary>
    [Fact]
    public async Task Arguments_InvalidRequests_AreRefusedBeforeAnythingIsCounted()
    {
        SkipIfKnownBug();
        var store = NewStore();
        CounterRequest[][] invalid =
        [
            [new CounterRequest(null!, 1, 5, Minute, LimitAlgorithm.Fixed)],
            [Fixed("ok", 1, 5, Minute), new CounterRequest(Key("negative-amount"), -1, 5, Minute, LimitAlgorithm.Fixed)],
            [new CounterRequest(Key("negative-max"), 1, -1, Minute, LimitAlgorithm.Fixed)],
            [new CounterRequest(Key("no-window"), 1, 5, TimeSpan.Zero, LimitAlgorithm.Sliding)],
            [new CounterRequest(Key("negative-window"), 1, 5, TimeSpan.FromSeconds(-1), LimitAlgorithm.Fixed)],
        ];

        Assert.Throws<ArgumentNullException>(() => store.Reserve(null!, T0));
        Assert.Throws<ArgumentNullException>(() => store.Peek(null!, T0));
        Assert.Throws<ArgumentNullException>(() => store.Release(null!, T0));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.ReserveAsync(null!, T0, TestContext.Current.CancellationToken));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await store.ReleaseAsync(null!, T0, TestContext.Current.CancellationToken));
        foreach (var requests in invalid)
        {
            Assert.ThrowsAny<ArgumentException>(() => store.Reserve(requests, T0));
            Assert.ThrowsAny<ArgumentException>(() => store.Peek(requests, T0));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.ReserveAsync(requests, T0, TestContext.Current.CancellationToken));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await store.PeekAsync(requests, T0, TestContext.Current.CancellationToken));
        }

        // Nothing was charged by the refused calls (the valid first request of a refused list included).
        var result = store.Reserve([Fixed("ok", 5, 5, Minute)], T0);
        Assert.True(result.Admitted);
    }

    [Fact]
    public async Task Arguments_CancelledToken_CancelsBeforeAnythingIsCounted()
    {
        SkipIfKnownBug();
        var store = NewStore();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.ReserveAsync([Fixed("c", 1, 1, Minute)], T0, cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await store.PeekAsync([Fixed("c", 1, 1, Minute)], T0, cancelled.Token));

        Assert.True(store.Reserve([Fixed("c", 1, 1, Minute)], T0).Admitted);
    }
}
