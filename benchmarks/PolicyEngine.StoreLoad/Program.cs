// Load console for the shared stores: decisions per second through PolicyEvaluator against Redis (1 and 3 counters
// per call, 1 and 64 concurrent callers) beside a raw StackExchange.Redis EVALSHA loop (the ceiling), and SQLite
// reservations per second in WAL mode. Usage: dotnet run -c Release -- [redis host:port] [seconds per case]
using System.Diagnostics;
using System.Text.Json;
using PolicyEngine;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;
using StackExchange.Redis;

var address = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("POLICYENGINE_REDIS") ?? "127.0.0.1:6379";
var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
var duration = TimeSpan.FromSeconds(seconds);
var noArgs = JsonDocument.Parse("{}").RootElement;

static Policy PolicyWith(int counters)
{
    var limits = string.Join(",", Enumerable.Range(0, counters).Select(i =>
        $$"""{ "counter": "c{{i}}", "window": "{{(i == 1 ? "minute" : "hour")}}", "max": 9000000000000, "scope": "{{(i == 2 ? "global" : "grant")}}"{{(i == 1 ? ", \"algorithm\": \"sliding\"" : "")}} }"""));
    return Policy.Compile(PolicyDocument.Parse($$"""{ "version": "2", "default": "allow", "tools": { "t": { "limits": [ {{limits}} ] } } }"""));
}

static async Task<double> Measure(int callers, TimeSpan duration, Func<int, Task> call)
{
    // Warm up, then count completed calls across all callers for the duration.
    for (var i = 0; i < 200; i++)
    {
        await call(0);
    }

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
    return done / stop.Elapsed.TotalSeconds;
}

Console.WriteLine($"# PolicyEngine store load ({Environment.ProcessorCount} cores, {seconds} s per case, Redis {address})");
using var connection = await ConnectionMultiplexer.ConnectAsync(RedisStoreConnection.Configure(address, TimeSpan.FromSeconds(5)));
var database = connection.GetDatabase();
var store = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = "{pe-load-" + Guid.NewGuid().ToString("N")[..8] + "}:" });
var raw = "return 1";
var rawSha = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(raw));
await database.ScriptEvaluateAsync(raw);

Console.WriteLine("| case | callers | ops/s | % of raw EVALSHA |");
Console.WriteLine("| --- | ---: | ---: | ---: |");
foreach (var callers in new[] { 1, 64 })
{
    var ceiling = await Measure(callers, duration, async _ => await database.ScriptEvaluateAsync(rawSha, [(RedisKey)"{pe-load}:raw"], []));
    Console.WriteLine($"| raw EVALSHA `return 1` (1 key) | {callers} | {ceiling:N0} | 100% |");
    foreach (var counters in new[] { 1, 3 })
    {
        var evaluator = new PolicyEvaluator(PolicyWith(counters), store);
        var identities = Enumerable.Range(0, callers).Select(i => new PolicyIdentity("load-" + i)).ToArray();
        var rate = await Measure(callers, duration, async caller =>
        {
            var decision = await evaluator.EvaluateAsync(identities[caller], "t", noArgs);
            if (decision.Kind != DecisionKind.Allow)
            {
                throw new InvalidOperationException(decision.ToString());
            }
        });
        Console.WriteLine($"| EvaluateAsync, Redis, {counters} counter(s) | {callers} | {rate:N0} | {rate / ceiling:P0} |");
    }
}

Console.WriteLine();
Console.WriteLine("| SQLite case | threads | reservations/s |");
Console.WriteLine("| --- | ---: | ---: |");
foreach (var full in new[] { false, true })
{
    foreach (var threads in new[] { 1, 4 })
    {
        var directory = Directory.CreateTempSubdirectory("pe-load-");
        using (var sqlite = new SqliteCounterStore(new SqliteCounterStoreOptions { Path = Path.Combine(directory.FullName, "c.db"), SynchronousFull = full }))
        {
            var requests = new CounterRequest[] { new("k", 1, long.MaxValue, TimeSpan.FromHours(1), LimitAlgorithm.Fixed) };
            long done = 0;
            var stop = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, threads).Select(_ => Task.Run(() =>
            {
                long mine = 0;
                while (stop.Elapsed < duration)
                {
                    sqlite.Reserve(requests, DateTimeOffset.UtcNow);
                    mine++;
                }

                Interlocked.Add(ref done, mine);
            })).ToArray();
            await Task.WhenAll(workers);
            Console.WriteLine($"| Reserve, 1 counter, WAL, synchronous={(full ? "FULL" : "NORMAL")} | {threads} | {done / stop.Elapsed.TotalSeconds:N0} |");
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        directory.Delete(recursive: true);
    }
}
