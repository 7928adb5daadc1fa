using System.Diagnostics;
using System.Globalization;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Redis.Tests;

/// <summary>
/// <see cref="LeasingCounterStore"/> over a real Redis shared by four worker processes (tests/PolicyEngine.Stores.Worker,
/// "lease" mode), each with eight concurrent callers: never more than max per window in total, and what goes unused
/// stays within the leases the other hosts can hold.
/// </summary>
public sealed class LeasingRedisTests
{
    private const int Workers = 4;
    private const int CallersPerWorker = 8;

    /// <summary>What one worker reported.</summary>
    private sealed record Report(long Admitted, long Trips, long From, long To, long[] Stamps, Dictionary<long, long> Refused);

    [Fact]
    public async Task Reserve_FourProcessesLeasingOneWindow_AdmitAtMostMaxAndUnderAdmitLessThanTheOthersLeases()
    {
        StoreTestEnvironment.SkipWithoutRedis();
        const long Max = 1_000;
        const long Lease = 25;
        var prefix = StoreTestEnvironment.UniquePrefix();

        // Every worker makes as many calls as the whole limit, all stamped at one instant (one window).
        var reports = await RunAsync(prefix, "one", Max, Lease, "fixed", 60_000, "attempts:" + Max);
        var admitted = reports.Sum(r => r.Admitted);
        var refused = reports.Sum(r => r.Refused.Values.Sum());
        var trips = reports.Sum(r => r.Trips);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"admitted {admitted} of {Max} ({string.Join(" + ", reports.Select(r => r.Admitted))}), refused {refused}; {trips} reservations reached Redis for {Workers * Max} calls");
        Assert.InRange(admitted, Max - ((Workers - 1) * Lease), Max);

        // Every worker returned what it did not use on dispose: Redis counts exactly what was admitted.
        var redis = new RedisCounterStore(StoreTestEnvironment.Redis, new RedisCounterStoreOptions { KeyPrefix = prefix, Timeout = StoreTestEnvironment.RedisTimeout });
        var at = new DateTimeOffset(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
        var request = new CounterRequest("one", 1, Max, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed);
        if (admitted < Max)
        {
            Assert.True(redis.Peek([request with { Amount = Max - admitted }], at).Admitted, "units were lost");
        }

        Assert.False(redis.Peek([request], at).Admitted, "Redis holds less than was admitted");

        // Admitted calls cost about one round trip per lease (plus halving near the end and callers that gave up
        // waiting in line); a refused call costs one, as without leasing.
        Assert.True(trips - refused <= (2 * admitted / Lease) + (8 * Workers), $"{trips} round trips for {admitted} admitted and {refused} refused calls");
    }

    [Theory]
    [InlineData("fixed", 1_000)]
    [InlineData("sliding", 2_000)]
    public async Task Reserve_FourProcessesLeasingOnTheRealClock_NeverAdmitMoreThanMaxPerWindow(string algorithm, long windowMs)
    {
        StoreTestEnvironment.SkipWithoutRedis();
        const long Max = 60;
        const long Lease = 5;
        var reports = await RunAsync(StoreTestEnvironment.UniquePrefix(), "clock", Max, Lease, algorithm, windowMs, "ms:3500");
        var stamps = reports.SelectMany(r => r.Stamps).Order().ToArray();
        Assert.NotEmpty(stamps);

        // At most max in any fixed window, or in any interval of one window length (sliding).
        foreach (var start in stamps)
        {
            var from = algorithm == "fixed" ? start - (start % windowMs) : start;
            var inWindow = stamps.Count(s => s >= from && s < from + windowMs);
            Assert.True(inWindow <= Max, $"{inWindow} admitted in [{from}, {from + windowMs}) ms, max {Max}");
        }

        if (algorithm != "fixed")
        {
            return;
        }

        // Every fixed window that all workers covered and in which some call was refused admitted at least max less
        // what the other hosts' leases can hold (a refusal means Redis had no room left beyond those leases).
        var from0 = reports.Max(r => r.From);
        var to0 = reports.Min(r => r.To);
        var lines = new List<string>();
        for (var window = from0 - (from0 % windowMs) + windowMs; window + windowMs <= to0; window += windowMs)
        {
            var admitted = stamps.Count(s => s >= window && s < window + windowMs);
            var refused = reports.Sum(r => r.Refused.GetValueOrDefault(window));
            lines.Add($"window {window}: admitted {admitted}, refused {refused}");
            if (refused > 0)
            {
                Assert.True(admitted >= Max - ((Workers - 1) * Lease), $"window {window} admitted {admitted} of {Max} with {refused} refusals");
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine(string.Join(Environment.NewLine, lines));
        Assert.NotEmpty(lines);
    }

    /// <summary>Starts the workers, releases them together, and collects their reports.</summary>
    private static async Task<Report[]> RunAsync(string prefix, string key, long max, long lease, string algorithm, long windowMs, string run)
    {
        var processes = new Process[Workers];
        try
        {
            for (var i = 0; i < Workers; i++)
            {
                processes[i] = StoreTestEnvironment.StartWorker(
                    "lease", StoreTestEnvironment.RedisAddress!, prefix, key, max.ToString(CultureInfo.InvariantCulture), lease.ToString(CultureInfo.InvariantCulture),
                    algorithm, windowMs.ToString(CultureInfo.InvariantCulture), run, CallersPerWorker.ToString(CultureInfo.InvariantCulture));
            }

            foreach (var process in processes)
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await StoreTestEnvironment.ExpectAsync(process, line, line == "ready");
            }

            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            var reports = new Report[Workers];
            for (var i = 0; i < Workers; i++)
            {
                var fields = new Dictionary<string, string>();
                for (var n = 0; n < 5; n++)
                {
                    var line = await processes[i].StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
                    await StoreTestEnvironment.ExpectAsync(processes[i], line, line is not null && line.Contains(' ', StringComparison.Ordinal));
                    var space = line!.IndexOf(' ', StringComparison.Ordinal);
                    fields[line[..space]] = line[(space + 1)..];
                }

                await processes[i].WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                var span = fields["span"].Split(' ');
                reports[i] = new Report(
                    long.Parse(fields["admitted"], CultureInfo.InvariantCulture),
                    long.Parse(fields["trips"], CultureInfo.InvariantCulture),
                    long.Parse(span[0], CultureInfo.InvariantCulture),
                    long.Parse(span[1], CultureInfo.InvariantCulture),
                    [.. fields["stamps"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => long.Parse(s, CultureInfo.InvariantCulture))],
                    fields["refused"].Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split(':')).ToDictionary(p => long.Parse(p[0], CultureInfo.InvariantCulture), p => long.Parse(p[1], CultureInfo.InvariantCulture)));
            }

            return reports;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (process is { HasExited: false })
                {
                    process.Kill(entireProcessTree: true);
                }

                process?.Dispose();
            }
        }
    }
}
