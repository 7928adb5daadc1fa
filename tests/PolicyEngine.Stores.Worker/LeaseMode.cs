using System.Diagnostics;
using System.Globalization;
using PolicyEngine.Redis;

namespace PolicyEngine.Stores.Worker;

/// <summary>
/// The worker's "lease" mode: a <see cref="LeasingCounterStore"/> over a <see cref="RedisCounterStore"/>, driven by
/// several concurrent callers in this process, for the multi-process leasing tests.
/// </summary>
/// <remarks>
/// <c>lease TARGET PREFIX KEY MAX LEASE fixed|sliding WINDOW_MS RUN CALLERS</c>, where RUN is <c>attempts:N</c> (N
/// reservations in all, every one at the same fixed instant, so every worker charges one window) or <c>ms:N</c> (reserve
/// on the real clock for N milliseconds). Prints "ready", waits for a line on stdin, runs, disposes the leasing store (its
/// unused units go back to Redis), then prints "admitted N", "trips N" (reservations that reached Redis), "span FROM TO"
/// (the real-clock run's first and last instant, Unix ms), "stamps A,B,..." (the instant of every admitted call, Unix
/// ms) and "refused W:N,..." (how many calls were refused per window start W, Unix ms), each on its own line, and exits 0.
/// </remarks>
internal static class LeaseMode
{
    /// <summary>The instant of the "attempts" runs (as in the hammer mode: every worker charges the same window).</summary>
    private static readonly DateTimeOffset Fixed = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    public static async Task<int> RunAsync(string[] args)
    {
        var target = args[1];
        var prefix = args[2];
        var key = args[3];
        var max = long.Parse(args[4], CultureInfo.InvariantCulture);
        var leaseSize = long.Parse(args[5], CultureInfo.InvariantCulture);
        var algorithm = args[6] == "sliding" ? LimitAlgorithm.Sliding : LimitAlgorithm.Fixed;
        var window = TimeSpan.FromMilliseconds(long.Parse(args[7], CultureInfo.InvariantCulture));
        var run = args[8].Split(':');
        var callers = int.Parse(args[9], CultureInfo.InvariantCulture);
        var realClock = run[0] == "ms";
        var amount = long.Parse(run[1], CultureInfo.InvariantCulture);

        using var redis = RedisCounterStore.Connect(target, new RedisCounterStoreOptions { KeyPrefix = prefix, Timeout = TimeSpan.FromSeconds(10) });
        var counting = new TripCounter(redis);
        var leasing = new LeasingCounterStore(counting, new LeasingCounterStoreOptions { LeaseSize = leaseSize, MaxLeaseShare = 1, MaxLeaseLifetime = TimeSpan.FromSeconds(5) });
        var request = new CounterRequest[] { new(key, 1, max, window, algorithm) };

        // One round trip before the start line, so connecting and loading the script are not part of the run.
        await redis.PeekAsync(request, DateTimeOffset.UtcNow);
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        _ = Console.ReadLine();

        var stamps = new List<long>[callers];
        var refused = new Dictionary<long, int>[callers];
        var windowMs = (long)window.TotalMilliseconds;
        var attempts = amount;
        var stop = Stopwatch.StartNew();
        var from = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var tasks = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            var mine = stamps[caller] = [];
            var refusals = refused[caller] = [];
            while (realClock ? stop.ElapsedMilliseconds < amount : Interlocked.Decrement(ref attempts) >= 0)
            {
                var now = realClock ? DateTimeOffset.UtcNow : Fixed;
                var at = now.ToUnixTimeMilliseconds();
                if ((await leasing.ReserveAsync(request, now)).Admitted)
                {
                    mine.Add(at);
                }
                else
                {
                    refusals[at - (at % windowMs)] = refusals.GetValueOrDefault(at - (at % windowMs)) + 1;
                }
            }
        })).ToArray();
        await Task.WhenAll(tasks);
        var to = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await leasing.DisposeAsync();

        var all = stamps.SelectMany(s => s).Order().ToList();
        Console.Out.WriteLine($"admitted {all.Count}");
        Console.Out.WriteLine($"trips {counting.Reserves}");
        Console.Out.WriteLine($"span {from} {to}");
        Console.Out.WriteLine("stamps " + string.Join(",", all));
        var refusedPerWindow = refused.SelectMany(r => r).GroupBy(p => p.Key).OrderBy(g => g.Key).Select(g => $"{g.Key}:{g.Sum(p => p.Value)}");
        Console.Out.WriteLine("refused " + string.Join(",", refusedPerWindow));
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Counts the reservations that reach the shared store (lease refills and calls it decides directly).</summary>
    private sealed class TripCounter(ICounterStore inner) : ICounterStore
    {
        private int _reserves;

        public int Reserves => Volatile.Read(ref _reserves);

        public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
        {
            Interlocked.Increment(ref _reserves);
            return inner.Reserve(requests, now);
        }

        public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reserves);
            return inner.ReserveAsync(requests, now, cancellationToken);
        }

        public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => inner.Peek(requests, now);

        public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            inner.PeekAsync(requests, now, cancellationToken);

        public void Release(CounterReservation reservation, DateTimeOffset now) => inner.Release(reservation, now);

        public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            inner.ReleaseAsync(reservation, now, cancellationToken);
    }
}
