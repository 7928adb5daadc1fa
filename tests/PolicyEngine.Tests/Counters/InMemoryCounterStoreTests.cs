namespace PolicyEngine.Tests.Counters;

public class InMemoryCounterStoreTests : CounterStoreContractTests
{
    protected override ICounterStore CreateStore() => new InMemoryCounterStore();

    [Fact]
    public void GrantPath_ManyThreadsOneIdentity_AdmitExactlyMaxPerWindowWithRollbacks()
    {
        // The evaluator's grant path (the cell under the identity's own string) under contention for one cell's lock:
        // callers reserve, every third admitted call is rolled back (Release takes the same lock), and the clock moves
        // into a new window twice, so the sweeper's TryEnter meets held cells. Every charge and refund is a
        // read-modify-write of one count, so a lock that let two callers in would lose updates and admit more than
        // max; one never released would hang a caller. Every window admits exactly max net.
        const int Threads = 8;
        const int PerThread = 20_000;
        const int Max = 100_000;
        var clock = new PolicyEngine.Evaluation.VirtualClock(new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero));
        var evaluator = new PolicyEvaluator(
            Policy.Parse($$"""{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "minute", "max": {{Max}}, "scope": "grant" } ] } } }"""),
            new InMemoryCounterStore(),
            timeProvider: clock);
        var who = new PolicyIdentity("alice");
        var args = System.Text.Json.JsonDocument.Parse("{}").RootElement;
        for (var window = 0; window < 3; window++)
        {
            clock.Set(new DateTimeOffset(2026, 3, 14, 10, window * 2, 30, TimeSpan.Zero));
            var kept = 0;
            using var barrier = new Barrier(Threads);
            var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                barrier.SignalAndWait();
                for (var i = 0; i < PerThread; i++)
                {
                    var decision = evaluator.Evaluate(who, "t", args);
                    if (!decision.IsAllowed)
                    {
                        continue;
                    }

                    var succeeded = i % 3 != 0;
                    evaluator.Complete(decision, succeeded);
                    if (succeeded)
                    {
                        Interlocked.Increment(ref kept);
                    }
                }
            })).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            foreach (var thread in threads)
            {
                Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a caller did not finish: a cell lock was never released");
            }

            Assert.Equal(Max, kept);
            Assert.False(evaluator.Evaluate(who, "t", args).IsAllowed);
        }
    }

    [Fact]
    public void PeekAndFixedRefusal_ExistingCounters_AllocateNothing()
    {
        // Counting newer buckets and checking horizons must keep the hot path allocation-free.
        var store = new InMemoryCounterStore();
        var now = new DateTimeOffset(2026, 3, 14, 10, 0, 20, TimeSpan.Zero);
        CounterRequest[] sliding = [new("s", 1, 1_000, TimeSpan.FromMinutes(1), LimitAlgorithm.Sliding)];
        CounterRequest[] fixedFull = [new("f", 1, 1, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed)];
        CounterRequest[] both = [sliding[0], new("g", 1, 1_000, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed)];
        Assert.True(store.Reserve(sliding, now.AddSeconds(10)).Admitted);
        Assert.True(store.Reserve(both, now).Admitted);
        Assert.True(store.Reserve(fixedFull, now).Admitted);
        for (var i = 0; i < 100; i++)
        {
            store.Peek(sliding, now);
            store.Peek(both, now);
            store.Reserve(fixedFull, now);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            Assert.True(store.Peek(sliding, now).Admitted);
            Assert.True(store.Peek(both, now).Admitted);
            Assert.False(store.Reserve(fixedFull, now).Admitted);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Count_AfterManyKeysAndTheirWindowsPass_DropsToTheLiveCounters()
    {
        var store = new InMemoryCounterStore();
        for (var i = 0; i < 5_000; i++)
        {
            Assert.True(store.Reserve([new CounterRequest("minute/" + i, 1, 1, Minute, LimitAlgorithm.Fixed)], T0).Admitted);
            Assert.True(store.Reserve([new CounterRequest("sliding/" + i, 1, 1, Minute, LimitAlgorithm.Sliding)], T0).Admitted);
        }

        Assert.True(store.Reserve([new CounterRequest("day", 1, 1, TimeSpan.FromDays(1), LimitAlgorithm.Fixed)], T0).Admitted);
        Assert.Equal(10_001, store.Count);

        // Still inside the sliding windows: nothing that counts may be swept.
        Assert.True(store.Peek([new CounterRequest("probe", 1, 1, Minute, LimitAlgorithm.Fixed)], T0.AddSeconds(50)).Admitted);
        Assert.True(store.Count >= 5_001, $"swept counters still in their windows: {store.Count}");
        Assert.False(store.Reserve([new CounterRequest("sliding/7", 1, 1, Minute, LimitAlgorithm.Sliding)], T0.AddSeconds(50)).Admitted);

        // Counters are kept one window past their last counting bucket (for calls stamped slightly late). Three minutes
        // later every minute counter is gone; only the day counter (and the new key) remain.
        Assert.True(store.Reserve([new CounterRequest("later", 1, 1, Minute, LimitAlgorithm.Fixed)], T0.AddMinutes(3)).Admitted);
        Assert.Equal(2, store.Count);
        Assert.False(store.Reserve([new CounterRequest("day", 1, 1, TimeSpan.FromDays(1), LimitAlgorithm.Fixed)], T0.AddMinutes(3)).Admitted);
    }

    [Fact]
    public void Count_PeeksAndRefusalsOnNewKeys_DoNotAccumulate()
    {
        var store = new InMemoryCounterStore();
        for (var i = 0; i < 1_000; i++)
        {
            store.Peek([new CounterRequest("peek/" + i, 1, 1, Minute, LimitAlgorithm.Fixed)], T0);
            store.Reserve([new CounterRequest("refused/" + i, 2, 1, Minute, LimitAlgorithm.Fixed)], T0);
        }

        store.Peek([], T0.AddMinutes(2));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void Count_TimePassesInManySmallSteps_StaysBounded()
    {
        var store = new InMemoryCounterStore();
        var now = T0;
        var peak = 0;
        for (var step = 0; step < 600; step++)
        {
            now = now.AddMilliseconds(500);
            for (var i = 0; i < 20; i++)
            {
                store.Reserve([new CounterRequest($"k/{step}/{i}", 1, 5, TimeSpan.FromSeconds(10), LimitAlgorithm.Sliding)], now);
            }

            peak = Math.Max(peak, store.Count);
        }

        // A key charged at t counts until at most t + 11 s and is kept one more window (10 s) for late calls; with 40
        // new keys a second and a sweep every second, the store holds about 22 s of keys, never the history of 12,000.
        Assert.True(peak <= 40 * 24, $"peak {peak} counters");
    }

    [Fact]
    public async Task Reserve_WhileCellsAreSweptConcurrently_NeverLosesACharge()
    {
        // Every step starts a new one-second window, so the previous step's cells are expired and the first call of the
        // step sweeps them while the other workers reserve the same keys: a charge landing in a swept cell would be lost
        // and the key would admit more than max in that window.
        const int Workers = 6;
        const int Steps = 300;
        const int Keys = 4;
        const int Max = 5;
        const int AttemptsPerWorker = 4;
        var store = new InMemoryCounterStore();
        var admitted = new int[Steps, Keys];
        using var barrier = new Barrier(Workers);
        var tasks = new Task[Workers];
        for (var w = 0; w < Workers; w++)
        {
            var worker = w;
            tasks[w] = Task.Factory.StartNew(
                () =>
                {
                    for (var step = 0; step < Steps; step++)
                    {
                        barrier.SignalAndWait();
                        var now = T0.AddSeconds(step);
                        for (var attempt = 0; attempt < AttemptsPerWorker * Keys; attempt++)
                        {
                            var key = (attempt + worker) % Keys;
                            var other = (key + 1) % Keys;
                            CounterRequest[] requests = attempt % 3 == 0
                                ? [new("k" + key, 1, Max, TimeSpan.FromSeconds(1), LimitAlgorithm.Fixed), new("wide" + worker, 0, 1, TimeSpan.FromSeconds(1), LimitAlgorithm.Fixed)]
                                : [new("k" + key, 1, Max, TimeSpan.FromSeconds(1), LimitAlgorithm.Fixed)];
                            if (store.Reserve(requests, now).Admitted)
                            {
                                Interlocked.Increment(ref admitted[step, key]);
                            }

                            store.Peek([new("k" + other, 1, Max, TimeSpan.FromSeconds(1), LimitAlgorithm.Fixed)], now);
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        for (var step = 0; step < Steps; step++)
        {
            for (var key = 0; key < Keys; key++)
            {
                Assert.True(admitted[step, key] == Max, $"step {step}, key {key}: {admitted[step, key]} admitted, max {Max}");
            }
        }

        Assert.True(store.Count <= Keys + Workers);
    }

    [Fact]
    public async Task Release_WhileCellsAreSweptConcurrently_ReturnsQuotaOnlyToTheCurrentWindow()
    {
        const int Workers = 4;
        const int Steps = 200;
        const int Max = 8;
        var store = new InMemoryCounterStore();
        var request = new CounterRequest("k", 1, Max, TimeSpan.FromSeconds(1), LimitAlgorithm.Fixed);
        var held = new int[Steps];
        using var barrier = new Barrier(Workers);
        var tasks = new Task[Workers];
        for (var w = 0; w < Workers; w++)
        {
            tasks[w] = Task.Factory.StartNew(
                () =>
                {
                    CounterReservation? previous = null;
                    for (var step = 0; step < Steps; step++)
                    {
                        barrier.SignalAndWait();
                        var now = T0.AddSeconds(step);

                        // Releasing last step's reservation now must change nothing (its window is over).
                        if (previous is not null)
                        {
                            store.Release(previous, now);
                        }

                        previous = null;
                        for (var i = 0; i < Max; i++)
                        {
                            var result = store.Reserve([request], now);
                            if (!result.Admitted)
                            {
                                continue;
                            }

                            if (i % 2 == 0)
                            {
                                store.Release(result.Reservation!, now);
                            }
                            else
                            {
                                Interlocked.Increment(ref held[step]);
                                previous = result.Reservation;
                            }
                        }
                    }
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120), TestContext.Current.CancellationToken);
        for (var step = 0; step < Steps; step++)
        {
            Assert.True(held[step] <= Max, $"step {step}: {held[step]} held, max {Max}");
        }

        // The last window holds exactly what was kept.
        var last = T0.AddSeconds(Steps - 1);
        Assert.True(store.Reserve([request with { Amount = Max - held[Steps - 1] }], last).Admitted);
        Assert.False(store.Reserve([request], last).Admitted);
    }
}
