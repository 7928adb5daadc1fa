using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// <see cref="LeasingCounterStore"/> over a counting in-memory store: how many round trips leasing saves, what a lease
/// charges and gives back, and that refusals, rollbacks, several counters and concurrency keep the store's semantics.
/// </summary>
public class LeasingCounterStoreTests
{
    /// <summary>The start of a UTC minute (a fixed minute window and a sliding minute's 6 s bucket both start here).</summary>
    private static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static DateTimeOffset At(long ms) => T0.AddMilliseconds(ms);

    private static CounterRequest Fixed(string key, long max, long amount = 1) => new(key, amount, max, Minute, LimitAlgorithm.Fixed);

    private static CounterRequest Sliding(string key, long max, long amount = 1) => new(key, amount, max, Minute, LimitAlgorithm.Sliding);

    private static LeasingCounterStore Leasing(ICounterStore inner, long leaseSize = 10, double share = 1, TimeSpan? lifetime = null, TimeProvider? time = null) =>
        new(inner, new LeasingCounterStoreOptions { LeaseSize = leaseSize, MaxLeaseShare = share, MaxLeaseLifetime = lifetime ?? TimeSpan.FromMinutes(10) }, time ?? new FakeTimeProvider(T0));

    // ------------------------------------------------------------------ options

    [Fact]
    public void Constructor_InvalidOptions_NamesEveryProblem()
    {
        var options = new LeasingCounterStoreOptions { LeaseSize = 0, MaxLeaseShare = 1.5, MaxLeaseLifetime = TimeSpan.Zero };
        var error = Assert.Throws<ArgumentException>(() => new LeasingCounterStore(new InMemoryCounterStore(), options));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("LeasingCounterStoreOptions.LeaseSize must be at least 1 (it is 0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("LeasingCounterStoreOptions.MaxLeaseShare must be above 0 and at most 1 (it is 1.5)", error.Message, StringComparison.Ordinal);
        Assert.Contains("LeasingCounterStoreOptions.MaxLeaseLifetime must be between 1 millisecond and 1 day", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new LeasingCounterStore(new InMemoryCounterStore(), new LeasingCounterStoreOptions { MaxLeaseShare = double.NaN }));
        Assert.Throws<ArgumentException>(() => new LeasingCounterStore(new InMemoryCounterStore(), new LeasingCounterStoreOptions { MaxLeaseLifetime = TimeSpan.FromDays(2) }));
        Assert.Throws<ArgumentNullException>(() => new LeasingCounterStore(null!));
    }

    [Fact]
    public void Constructor_DefaultOptions_AreValid()
    {
        using var store = new LeasingCounterStore(new InMemoryCounterStore(), new LeasingCounterStoreOptions());
        using var defaulted = new LeasingCounterStore(new InMemoryCounterStore());
        Assert.NotNull(store.Inner);
        Assert.NotNull(defaulted.Inner);
    }

    [Fact]
    public void Constructor_OptionsChangedLater_HaveNoEffect()
    {
        var inner = new CountingCounterStore();
        var options = new LeasingCounterStoreOptions { LeaseSize = 5, MaxLeaseShare = 1 };
        using var store = new LeasingCounterStore(inner, options, new FakeTimeProvider(T0));
        options.LeaseSize = 500;
        Assert.True(store.Reserve([Fixed("k", 1000)], At(0)).Admitted);
        Assert.Equal(5, inner.Used(Fixed("k", 1000), At(0)));
    }

    // ------------------------------------------------------------------ leases: what they charge and save

    [Fact]
    public void Reserve_ManyCallsInOneWindow_AboutOneSharedStoreCallPerLease()
    {
        // Leases of 12: the first is charged in full, then each is topped up (in the background) when it falls below a
        // quarter (after every tenth call), by what brings it back to 12: 1 + 10 round trips for 100 calls.
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 12);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(store.Reserve([Fixed("k", 1000)], At(i)).Admitted);
            Assert.InRange(store.Leased("k"), 0, 12);
        }

        Assert.Equal(11, inner.Reserves);
        Assert.Equal(100 + store.Leased("k"), inner.Used(Fixed("k", 1000), At(100)));
    }

    [Fact]
    public void Reserve_FirstCall_ChargesTheWholeLeaseUpFront()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        Assert.True(store.Reserve([Fixed("k", 1000)], At(0)).Admitted);
        Assert.Equal(10, inner.Used(Fixed("k", 1000), At(0)));
        Assert.Equal(9, store.Leased("k"));
    }

    [Theory]
    [InlineData(60, 0.1, 100, 6)]
    [InlineData(10, 0.1, 100, 1)]
    [InlineData(1000, 1, 7, 7)]
    [InlineData(5, 1, 100, 5)]
    [InlineData(long.MaxValue, 1, 100, 100)]
    [InlineData(long.MaxValue, 0.9999999999, 100, 100)]
    public void Reserve_LeaseSize_IsTheSmallerOfSizeAndShareOfMax(long max, double share, long leaseSize, long expected)
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize, share);
        Assert.True(store.Reserve([Fixed("k", max)], At(0)).Admitted);
        Assert.Equal(expected - 1, store.Leased("k"));
    }

    [Fact]
    public void Reserve_LessLeftThanALease_HalvesUntilItFitsAndTakesAtLeastHalfOfWhatIsLeft()
    {
        var inner = new CountingCounterStore();
        Assert.True(inner.Reserve([Fixed("k", 1000, amount: 993)], At(0)).Admitted);
        using var store = Leasing(inner, leaseSize: 100);
        var before = inner.Reserves;

        // 7 left: 100, 50, 25, 12 are refused, 6 fits.
        Assert.True(store.Reserve([Fixed("k", 1000)], At(0)).Admitted);
        Assert.Equal(5, inner.Reserves - before);
        Assert.Equal(5, store.Leased("k"));
        Assert.Equal(999, inner.Used(Fixed("k", 1000), At(0)));

        // Later refills start from what worked (6: refused, 3: refused, 1: fits): every unit left is admitted, in few
        // round trips.
        var admitted = 1;
        while (store.Reserve([Fixed("k", 1000)], At(0)).Admitted)
        {
            admitted++;
        }

        Assert.Equal(7, admitted);
        Assert.InRange(inner.Reserves - before, 5, 12);
        Assert.Equal(1000, inner.Used(Fixed("k", 1000), At(0)));
    }

    [Fact]
    public void Reserve_SharedStoreExhausted_OneRoundTripPerRefusedCallAsWithoutLeasing()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 8);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(store.Reserve([Fixed("k", 20)], At(i)).Admitted);
        }

        Assert.False(store.Reserve([Fixed("k", 20)], At(20)).Admitted);
        var before = inner.Reserves;
        for (var i = 0; i < 10; i++)
        {
            Assert.False(store.Reserve([Fixed("k", 20)], At(21 + i)).Admitted);
        }

        Assert.Equal(10, inner.Reserves - before);
    }

    [Fact]
    public void Reserve_NewFixedWindowAfterAFullOne_LeasesFullSizeAgain()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 8);
        while (store.Reserve([Fixed("k", 20)], At(0)).Admitted)
        {
        }

        Assert.True(store.Reserve([Fixed("k", 20)], At(60_000)).Admitted);
        Assert.Equal(7, store.Leased("k"));
    }

    // ------------------------------------------------------------------ refusals and retry-after

    [Fact]
    public void Reserve_FixedWindowFull_RetryAfterIsExactlyTheWindowEnd()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 4);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(store.Reserve([Fixed("k", 10)], At(20_250)).Admitted);
        }

        var refused = store.Reserve([Fixed("k", 10)], At(20_250));
        Assert.False(refused.Admitted);
        Assert.Equal(0, refused.LimitingIndex);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), refused.RetryAfter);
        Assert.Equal(refused.RetryAfter, store.Peek([Fixed("k", 10)], At(20_250)).RetryAfter);
    }

    [Fact]
    public void Reserve_SlidingRefusedWhileAnotherHostHoldsALease_RetryAfterIsTightAndAdmits()
    {
        // Host A leases 4 at +0 s and uses 1; host B takes the other 6 and is then refused. A's unused units count
        // until bucket 0 stops counting (+66 s): B's retry-after must not promise room earlier.
        var inner = new CountingCounterStore();
        using var a = Leasing(inner, leaseSize: 4);
        using var b = Leasing(inner, leaseSize: 4);
        Assert.True(a.Reserve([Sliding("k", 10)], At(0)).Admitted);
        for (var i = 0; i < 6; i++)
        {
            Assert.True(b.Reserve([Sliding("k", 10)], At(100)).Admitted);
        }

        var refused = b.Reserve([Sliding("k", 10)], At(200));
        Assert.False(refused.Admitted);
        Assert.Equal(At(66_000), At(200) + refused.RetryAfter);
        Assert.False(b.Reserve([Sliding("k", 10)], At(65_999)).Admitted);
        Assert.True(b.Reserve([Sliding("k", 10)], At(66_000)).Admitted);
    }

    [Fact]
    public void Reserve_CostAboveWhatTheLeaseHolds_RefillsOnlyTheShortfall()
    {
        // 3 left in the shared store, 2 in the lease: a call costing 5 is admitted (2 + a refill of 3).
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 5);
        Assert.True(store.Reserve([Fixed("k", 10, amount: 3)], At(0)).Admitted);
        Assert.True(inner.Reserve([Fixed("k", 10, amount: 2)], At(0)).Admitted);
        Assert.Equal(2, store.Leased("k"));

        Assert.True(store.Reserve([Fixed("k", 10, amount: 5)], At(0)).Admitted);
        Assert.Equal(10, inner.Used(Fixed("k", 10), At(0)));
        Assert.Equal(0, store.Leased("k"));
    }

    // ------------------------------------------------------------------ windows and buckets

    [Fact]
    public void Reserve_SlidingLease_AdmitsOnlyInItsBucketAndIsReturnedAfterIt()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        Assert.True(store.Reserve([Sliding("k", 100)], At(0)).Admitted);
        Assert.Equal(10, inner.Used(Sliding("k", 100), At(0)));

        // The next bucket (+6 s): the old lease's 9 unused units go back, a new lease is charged.
        var before = (inner.Reserves, inner.Releases);
        Assert.True(store.Reserve([Sliding("k", 100)], At(6_000)).Admitted);
        Assert.Equal(before.Reserves + 1, inner.Reserves);
        Assert.Equal(before.Releases + 1, inner.Releases);
        Assert.Equal(1 + 10, inner.Used(Sliding("k", 100), At(6_000)));
    }

    [Fact]
    public void Reserve_FixedLease_NotUsedInTheNextWindowButServesLateCallersOfItsOwn()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        Assert.True(store.Reserve([Fixed("k", 100)], At(59_000)).Admitted);
        Assert.True(store.Reserve([Fixed("k", 100)], At(60_000)).Admitted);
        Assert.Equal(10, inner.Used(Fixed("k", 100), At(60_000)));

        // A caller stamped in the first minute arriving now is admitted from the first minute's lease, without a round trip.
        var before = inner.Reserves;
        Assert.True(store.Reserve([Fixed("k", 100)], At(59_999)).Admitted);
        Assert.Equal(before, inner.Reserves);
        Assert.Equal(10, inner.Used(Fixed("k", 100), At(59_999)));
    }

    [Fact]
    public void Reserve_SlidingLateCaller_IsDecidedByTheSharedStoreAfterTheNewerLeaseIsReturned()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 4);
        Assert.True(store.Reserve([Sliding("k", 2)], At(60_010)).Admitted);
        Assert.True(store.Reserve([Sliding("k", 2)], At(59_990)).Admitted);
        Assert.False(store.Reserve([Sliding("k", 2)], At(59_995)).Admitted);
        Assert.Equal(0, store.Leased("k"));
    }

    [Fact]
    public void Reserve_LeaseOlderThanItsLifetime_IsReturnedAndReplaced()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10, lifetime: TimeSpan.FromSeconds(1));
        Assert.True(store.Reserve([Fixed("k", 100)], At(0)).Admitted);
        Assert.True(store.Reserve([Fixed("k", 100)], At(1_000)).Admitted);
        Assert.Equal(2 + 9, inner.Used(Fixed("k", 100), At(1_000)));
        Assert.Equal(9, store.Leased("k"));
    }

    [Fact]
    public void Timer_SlidingBucketEnds_ReturnsTheUnusedUnits()
    {
        var inner = new CountingCounterStore();
        var time = new FakeTimeProvider(At(1_000));
        using var store = Leasing(inner, leaseSize: 10, time: time);
        Assert.True(store.Reserve([Sliding("k", 100)], At(1_000)).Admitted);
        time.Advance(TimeSpan.FromMilliseconds(4_990));
        Assert.Equal(10, inner.Used(Sliding("k", 100), time.GetUtcNow()));

        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, inner.Used(Sliding("k", 100), time.GetUtcNow()));
        Assert.Equal(0, store.Leased("k"));
    }

    [Fact]
    public void Timer_QuietCounterPastTheLeaseLifetime_ReturnsTheUnusedUnits()
    {
        var inner = new CountingCounterStore();
        var time = new FakeTimeProvider(At(0));
        using var store = Leasing(inner, leaseSize: 10, lifetime: TimeSpan.FromSeconds(5), time: time);
        Assert.True(store.Reserve([Fixed("k", 100)], At(0)).Admitted);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, inner.Used(Fixed("k", 100), time.GetUtcNow()));
    }

    [Fact]
    public void Timer_ClockAtAnOffsetFromTheCalls_StillReturnsAtTheLeaseDeadline()
    {
        // The evaluator runs on virtual time in March; the store's timer runs on a clock years later. The timer measures
        // from when each lease was charged, so it neither returns the lease at once nor skips the return.
        var inner = new CountingCounterStore();
        var timer = new FakeTimeProvider(new DateTimeOffset(2031, 7, 1, 0, 0, 0, TimeSpan.Zero));
        using var store = Leasing(inner, leaseSize: 10, lifetime: TimeSpan.FromSeconds(5), time: timer);
        Assert.True(store.Reserve([Fixed("k", 100)], At(1_000)).Admitted);
        timer.Advance(TimeSpan.FromMilliseconds(4_900));
        Assert.Equal(9, store.Leased("k"));
        timer.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(0, store.Leased("k"));
        Assert.Equal(1, inner.Used(Fixed("k", 100), At(1_000)));
    }

    [Fact]
    public void Timer_IdleCounters_AreForgotten()
    {
        var inner = new CountingCounterStore();
        var time = new FakeTimeProvider(At(0));
        using var store = Leasing(inner, leaseSize: 10, lifetime: TimeSpan.FromSeconds(5), time: time);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(store.Reserve([Fixed("k" + i, 100)], At(0)).Admitted);
        }

        time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(0, store.Leased("k0"));
        Assert.Equal(0, CounterCount(store));
    }

    private static int CounterCount(LeasingCounterStore store)
    {
        var field = typeof(LeasingCounterStore).GetField("_counters", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        return ((System.Collections.ICollection)field.GetValue(store)!).Count;
    }

    // ------------------------------------------------------------------ rollback and dispose

    [Fact]
    public void Release_AdmittedFromALiveLease_ReturnsToTheLeaseWithoutARoundTrip()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        var admitted = store.Reserve([Fixed("k", 100, amount: 3)], At(0));
        Assert.Equal(7, store.Leased("k"));
        store.Release(admitted.Reservation!, At(0));
        Assert.Equal(10, store.Leased("k"));
        Assert.Equal(0, inner.Releases);
        Assert.Equal(10, inner.Used(Fixed("k", 100), At(0)));
    }

    [Fact]
    public async Task ReleaseAsync_AfterItsLeaseWasReturned_GoesToTheSharedStore()
    {
        var inner = new CountingCounterStore();
        var store = Leasing(inner, leaseSize: 10);
        var admitted = await store.ReserveAsync([Fixed("k", 100, amount: 3)], At(0), TestContext.Current.CancellationToken);
        await store.DisposeAsync();
        Assert.Equal(3, inner.Used(Fixed("k", 100), At(0)));
        await store.ReleaseAsync(admitted.Reservation!, At(0), TestContext.Current.CancellationToken);
        Assert.Equal(0, inner.Used(Fixed("k", 100), At(0)));
    }

    [Fact]
    public void Release_OfAReservationTheSharedStoreDecided_GoesToTheSharedStore()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        var twice = store.Reserve([Fixed("k", 100), Fixed("k", 100)], At(0));
        Assert.True(twice.Admitted);
        Assert.Equal(0, store.Leased("k"));
        store.Release(twice.Reservation!, At(0));
        Assert.Equal(0, inner.Used(Fixed("k", 100), At(0)));
    }

    [Fact]
    public void Dispose_ReturnsEveryUnusedUnitAndRefusesLaterReservations()
    {
        var inner = new CountingCounterStore();
        var store = Leasing(inner, leaseSize: 10);
        Assert.True(store.Reserve([Fixed("a", 100)], At(0)).Admitted);
        Assert.True(store.Reserve([Sliding("b", 100, amount: 2)], At(0)).Admitted);
        store.Dispose();
        store.Dispose();
        Assert.Equal(1, inner.Used(Fixed("a", 100), At(0)));
        Assert.Equal(2, inner.Used(Sliding("b", 100), At(0)));
        Assert.Throws<ObjectDisposedException>(() => store.Reserve([Fixed("a", 100)], At(0)));
        Assert.Throws<ObjectDisposedException>(() => store.Peek([Fixed("a", 100)], At(0)));
    }

    // ------------------------------------------------------------------ several counters

    [Fact]
    public void Reserve_SeveralCounters_AdmittedLocallyOnlyWhenEveryLeaseHasRoomAndAllOrNothing()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        CounterRequest[] call = [Fixed("a", 100), Sliding("b", 12)];
        Assert.True(store.Reserve(call, At(0)).Admitted);
        var before = inner.Reserves;
        for (var i = 0; i < 9; i++)
        {
            Assert.True(store.Reserve(call, At(1)).Admitted);
        }

        Assert.Equal(before, inner.Reserves);

        // b has 2 left in the shared store: the next refill gets them, then b is full and a is not charged for refusals.
        Assert.True(store.Reserve(call, At(2)).Admitted);
        Assert.True(store.Reserve(call, At(2)).Admitted);
        var refused = store.Reserve(call, At(3));
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.Equal(At(66_000), At(3) + refused.RetryAfter);
        Assert.Equal(12 - 12, store.Leased("b"));
        Assert.Equal(20 - 12, store.Leased("a"));
        Assert.False(store.Peek(call, At(3)).Admitted);
        Assert.True(store.Peek([call[0]], At(3)).Admitted);
    }

    [Fact]
    public void Release_SeveralCounters_EachUnitGoesBackToItsOwnLease()
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 10);
        var admitted = store.Reserve([Fixed("a", 100, amount: 2), Fixed("b", 100, amount: 3)], At(0));
        Assert.Equal((8L, 7L), (store.Leased("a"), store.Leased("b")));
        store.Release(admitted.Reservation!, At(0));
        Assert.Equal((10L, 10L), (store.Leased("a"), store.Leased("b")));
        Assert.Equal(0, inner.Releases);
    }

    // ------------------------------------------------------------------ concurrency

    [Theory]
    [InlineData(LimitAlgorithm.Fixed, 1_000, 16)]
    [InlineData(LimitAlgorithm.Sliding, 1_000, 16)]
    [InlineData(LimitAlgorithm.Fixed, 37, 100)]
    public void Reserve_64Threads_AdmitExactlyMax(LimitAlgorithm algorithm, int max, long leaseSize)
    {
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize);
        var request = new CounterRequest[] { new("k", 1, max, Minute, algorithm) };
        var admitted = 0;
        var attempts = -1;
        var threads = Enumerable.Range(0, 64).Select(_ => new Thread(() =>
        {
            while (Interlocked.Increment(ref attempts) < max * 20)
            {
                if (store.Reserve(request, At(1_000)).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Equal(max, admitted);
        Assert.Equal(0, store.Leased("k"));
    }

    [Fact]
    public async Task ReserveAsync_64CallersOverASlowSharedStore_AdmitExactlyMaxWithFewRoundTrips()
    {
        var inner = new CountingCounterStore { AsyncDelay = TimeSpan.FromMilliseconds(2) };
        await using var store = Leasing(inner, leaseSize: 50);
        var request = new CounterRequest[] { Fixed("k", 2_000) };
        var admitted = 0;
        var callers = Enumerable.Range(0, 64).Select(async _ =>
        {
            for (var i = 0; i < 50; i++)
            {
                if ((await store.ReserveAsync(request, At(1_000), TestContext.Current.CancellationToken)).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            }
        });
        await Task.WhenAll(callers);
        Assert.Equal(2_000, admitted);

        // 3,200 calls: 2,000 admitted in leases and top-ups of about 40 (50 round trips), the rest refused one round trip
        // each at most.
        Assert.InRange(inner.Reserves, 40, 2 * (40 + 1_200 + 64));
    }

    [Fact]
    public async Task Reserve_ConcurrentCallsWithRollbacks_NeverExceedMaxAndLoseNoUnit()
    {
        var inner = new CountingCounterStore { AsyncDelay = TimeSpan.FromMilliseconds(1) };
        var store = Leasing(inner, leaseSize: 7);
        var request = new CounterRequest[] { Fixed("k", 500) };
        long net = 0;
        long peak = 0;
        var callers = Enumerable.Range(0, 64).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var result = caller % 2 == 0
                    ? store.Reserve(request, At(1_000))
                    : await store.ReserveAsync(request, At(1_000), TestContext.Current.CancellationToken);
                if (!result.Admitted)
                {
                    continue;
                }

                var now = Interlocked.Increment(ref net);
                InterlockedMax(ref peak, now);
                if (i % 3 == 0)
                {
                    Interlocked.Decrement(ref net);
                    if (caller % 2 == 0)
                    {
                        store.Release(result.Reservation!, At(1_000));
                    }
                    else
                    {
                        await store.ReleaseAsync(result.Reservation!, At(1_000), TestContext.Current.CancellationToken);
                    }
                }
            }
        }));
        await Task.WhenAll(callers);
        Assert.InRange(Interlocked.Read(ref peak), 1, 500);
        await store.DisposeAsync();
        Assert.Equal(Interlocked.Read(ref net), inner.Used(request[0], At(1_000)));
    }

    [Fact]
    public async Task Reserve_BlockingCallerWhileATopUpIsInFlight_ChargesWhatItNeedsInsteadOfWaiting()
    {
        // The background top-up goes through the shared store's asynchronous path, which here takes 3 s. A blocking
        // caller that finds the lease empty meanwhile must not wait for it (its completion may need a pool thread the
        // caller holds): it charges its own unit synchronously.
        var inner = new CountingCounterStore { AsyncDelay = TimeSpan.FromSeconds(3) };
        await using var store = Leasing(inner, leaseSize: 8);
        for (var i = 0; i < 8; i++)
        {
            Assert.True(store.Reserve([Fixed("k", 1000)], At(0)).Admitted);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.True(store.Reserve([Fixed("k", 1000)], At(0)).Admitted);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"waited {clock.Elapsed}");
        Assert.InRange(store.Leased("k") + 9, 9, 8 + 9);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    // ------------------------------------------------------------------ through the evaluator

    [Fact]
    public void Evaluate_WithLeasing_AdmitsMaxThenRateLimitsUntilTheWindowEndAndRollsBackIntoTheLease()
    {
        var time = new FakeTimeProvider(At(20_250));
        var inner = new CountingCounterStore();
        using var store = Leasing(inner, leaseSize: 4, time: time);
        var policy = Policy.Parse("""{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "minute", "max": 10, "scope": "grant" } ] } } }""");
        var evaluator = new PolicyEvaluator(policy, store, null, time);
        var args = JsonDocument.Parse("{}").RootElement;
        var identity = new PolicyIdentity("alice");
        var decisions = Enumerable.Range(0, 10).Select(_ => evaluator.Evaluate(identity, "t", args)).ToList();
        Assert.All(decisions, d => Assert.Equal(DecisionKind.Allow, d.Kind));
        var limited = evaluator.Evaluate(identity, "t", args);
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), limited.RetryAfter);

        // The last call failed: its unit goes back to the lease (no round trip) and the next call gets it.
        var releases = inner.Releases;
        evaluator.Complete(decisions[^1], succeeded: false);
        Assert.Equal(releases, inner.Releases);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "t", args).Kind);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(identity, "t", args).Kind);
    }
}
