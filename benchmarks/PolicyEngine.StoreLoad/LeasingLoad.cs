using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PolicyEngine;
using PolicyEngine.Redis;
using StackExchange.Redis;

/// <summary>
/// The leasing cases of the load console (third argument <c>leasing</c>): decisions per second through
/// <see cref="PolicyEvaluator.EvaluateAsync(PolicyIdentity, string, JsonElement, CancellationToken)"/> with a
/// <see cref="RedisCounterStore"/> (one round trip per decision) beside the same store behind a
/// <see cref="LeasingCounterStore"/>, at 1 and 64 concurrent callers, interleaved one second at a time; then a drain:
/// four leasing hosts sharing one limit until it is spent, counting round trips and what was left unadmitted.
/// </summary>
internal static class LeasingLoad
{
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;

    public static async Task RunAsync(string address, TimeSpan duration)
    {
        Console.WriteLine($"# Leasing ({Environment.ProcessorCount} cores, {duration.TotalSeconds} s per case, Redis {address})");
        var configuration = RedisStoreConnection.Configure(address, TimeSpan.FromSeconds(5));
        configuration.AllowAdmin = true; // CONFIG RESETSTAT and INFO
        using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var prefix = "{pe-lease-" + Guid.NewGuid().ToString("N")[..8] + "}:";
        var redis = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = prefix });
        var rounds = Math.Max(1, (int)Math.Round(duration.TotalSeconds));
        var slice = duration / rounds;

        Console.WriteLine("| case | callers | decisions/s | × one round trip | EVALSHA per decision | client CPU µs/decision |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var callers in new[] { 1, 64 })
        {
            var own = Enumerable.Range(0, callers).Select(i => new PolicyIdentity($"lease-{callers}-{i}")).ToArray();
            var shared = Enumerable.Repeat(new PolicyIdentity($"lease-{callers}-shared"), callers).ToArray();
            var leasing100 = new LeasingCounterStore(redis, new LeasingCounterStoreOptions { LeaseSize = 100 });
            var leasing1000 = new LeasingCounterStore(redis, new LeasingCounterStoreOptions { LeaseSize = 1_000 });
            var cases = new (string Name, Func<int, Task> Call)[]
            {
                ("one round trip (RedisCounterStore), 1 counter", Decide(new PolicyEvaluator(PolicyWith(1), redis), own)),
                ("leasing, lease 100, 1 counter", Decide(new PolicyEvaluator(PolicyWith(1), leasing100), own)),
                ("leasing, lease 1000, 1 counter", Decide(new PolicyEvaluator(PolicyWith(1), leasing1000), own)),
                ("leasing, lease 100, 1 counter, all callers one identity", Decide(new PolicyEvaluator(PolicyWith(1), leasing100), shared)),
                ("leasing, lease 1000, 1 counter, all callers one identity", Decide(new PolicyEvaluator(PolicyWith(1), leasing1000), shared)),
                ("one round trip (RedisCounterStore), 3 counters", Decide(new PolicyEvaluator(PolicyWith(3), redis), own)),
                ("leasing, lease 100, 3 counters", Decide(new PolicyEvaluator(PolicyWith(3), leasing100), own)),
            };

            var results = new (long Done, double Seconds, double ClientUs, double Scripts)[cases.Length];
            foreach (var (_, call) in cases)
            {
                for (var i = 0; i < 200; i++)
                {
                    await call(0);
                }
            }

            for (var round = 0; round < rounds; round++)
            {
                for (var c = 0; c < cases.Length; c++)
                {
                    await server.ConfigResetStatisticsAsync();
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var (done, elapsed) = await Measure(callers, slice, cases[c].Call);
                    var clientUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds;
                    var stats = await server.InfoAsync("commandstats");
                    var evalsha = stats.SelectMany(g => g).FirstOrDefault(p => p.Key == "cmdstat_evalsha").Value ?? "";
                    var r = results[c];
                    results[c] = (r.Done + done, r.Seconds + elapsed.TotalSeconds, r.ClientUs + clientUs, r.Scripts + Field(evalsha, "calls"));
                }
            }

            var baseline1 = results[0].Done / results[0].Seconds;
            var three = Array.FindIndex(cases, c => c.Name.StartsWith("one round trip", StringComparison.Ordinal) && c.Name.EndsWith("3 counters", StringComparison.Ordinal));
            var baseline3 = results[three].Done / results[three].Seconds;
            for (var c = 0; c < cases.Length; c++)
            {
                var (done, seconds, clientUs, scripts) = results[c];
                var rate = done / seconds;
                var baseline = cases[c].Name.EndsWith("3 counters", StringComparison.Ordinal) ? baseline3 : baseline1;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {cases[c].Name} | {callers} | {rate:N0} | {rate / baseline:N1}× | {scripts / done:N3} | {clientUs / done:N2} |"));
            }

            await leasing100.DisposeAsync();
            await leasing1000.DisposeAsync();
        }

        await DrainAsync(redis, prefix);
    }

    /// <summary>
    /// Four leasing hosts (16 callers each) spend one limit of 100,000 in one window: round trips per admitted call, the
    /// round trips of the halving refills near the end, and what was left unadmitted when every host was refused.
    /// </summary>
    private static async Task DrainAsync(RedisCounterStore redis, string prefix)
    {
        const long Max = 100_000;
        Console.WriteLine();
        Console.WriteLine("| drain: 4 hosts × 16 callers, one limit | lease | admitted | left unadmitted | round trips | per 1,000 admitted | seconds |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var lease in new long[] { 10, 100, 1_000 })
        {
            var trips = new TripCounter(redis);
            var hosts = Enumerable.Range(0, 4).Select(_ => new LeasingCounterStore(trips, new LeasingCounterStoreOptions { LeaseSize = lease, MaxLeaseShare = 1 })).ToArray();
            var request = new CounterRequest[] { new($"drain-{lease}-{Guid.NewGuid():N}", 1, Max, TimeSpan.FromHours(1), LimitAlgorithm.Fixed) };
            var now = DateTimeOffset.UtcNow;
            long admitted = 0;
            var stop = Stopwatch.StartNew();
            await Task.WhenAll(hosts.SelectMany(host => Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                // Each caller stops at its first refusal: the limit is then spent except for what other hosts hold.
                while ((await host.ReserveAsync(request, now)).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            }))));
            var seconds = stop.Elapsed.TotalSeconds;
            foreach (var host in hosts)
            {
                await host.DisposeAsync();
            }

            var left = Max - admitted;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| lease {lease} | {lease} | {admitted:N0} | {left:N0} | {trips.Reserves:N0} | {1_000.0 * trips.Reserves / admitted:N1} | {seconds:N2} |"));
        }
    }

    private static Func<int, Task> Decide(PolicyEvaluator evaluator, PolicyIdentity[] identities) => async caller =>
    {
        var decision = await evaluator.EvaluateAsync(identities[caller], "t", NoArgs);
        if (decision.Kind != DecisionKind.Allow)
        {
            throw new InvalidOperationException(decision.ToString());
        }
    };

    /// <summary>The console's policies: 1 counter (grant, hour) or 3 (+ grant sliding minute, + global hour); limits never reached.</summary>
    private static Policy PolicyWith(int counters)
    {
        var limits = string.Join(",", Enumerable.Range(0, counters).Select(i =>
            $$"""{ "counter": "c{{i}}", "window": "{{(i == 1 ? "minute" : "hour")}}", "max": 9000000000000, "scope": "{{(i == 2 ? "global" : "grant")}}"{{(i == 1 ? ", \"algorithm\": \"sliding\"" : "")}} }"""));
        return Policy.Compile(PolicyDocument.Parse($$"""{ "version": "2", "default": "allow", "tools": { "t": { "limits": [ {{limits}} ] } } }"""));
    }

    private static async Task<(long Done, TimeSpan Elapsed)> Measure(int callers, TimeSpan duration, Func<int, Task> call)
    {
        long done = 0;
        var stop = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, callers).Select(async caller =>
        {
            long mine = 0;
            while (stop.Elapsed < duration)
            {
                await call(caller);
                mine++;
            }

            Interlocked.Add(ref done, mine);
        }).ToArray();
        await Task.WhenAll(tasks);
        return (done, stop.Elapsed);
    }

    private static double Field(string stat, string name)
    {
        foreach (var part in stat.Split(','))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0 && part[..eq] == name)
            {
                return double.Parse(part[(eq + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Counts reservations that reach the shared store.</summary>
    private sealed class TripCounter(ICounterStore inner) : ICounterStore
    {
        private long _reserves;

        public long Reserves => Interlocked.Read(ref _reserves);

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
