// Load console for the shared stores: decisions per second through PolicyEvaluator against Redis (1 and 3 counters
// per call, 1 and 64 concurrent callers) beside a raw StackExchange.Redis EVALSHA loop (the ceiling), and SQLite
// reservations per second in WAL mode. Usage: dotnet run -c Release -- [redis host:port] [seconds per case] [redis]
// (a third argument "redis" skips the SQLite cases). With "cluster" first: one Redis Cluster primary against three
// (see ClusterLoad.cs and benchmarks/cluster-load.sh).
using System.Diagnostics;
using System.Text.Json;
using PolicyEngine;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;
using StackExchange.Redis;

if (args.Length > 0 && args[0] == "cluster")
{
    await ClusterLoad.RunAsync(args[1..]);
    return;
}

if (args.Length > 0 && args[0] == "script")
{
    // The reservation script, for redis-benchmark runs of the server side alone (benchmarks/cluster-load.sh).
    Console.Write(CounterScripts.Reserve.Text);
    return;
}

var address = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("POLICYENGINE_REDIS") ?? "127.0.0.1:6379";
var seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;
var duration = TimeSpan.FromSeconds(seconds);
var noArgs = JsonDocument.Parse("{}").RootElement;

// A third argument "leasing" runs the LeasingCounterStore cases instead (LeasingLoad.cs).
if (args.Length > 2 && args[2] == "leasing")
{
    await LeasingLoad.RunAsync(address, duration);
    return;
}

static Policy PolicyWith(int counters)
{
    var limits = string.Join(",", Enumerable.Range(0, counters).Select(i =>
        $$"""{ "counter": "c{{i}}", "window": "{{(i == 1 ? "minute" : "hour")}}", "max": 9000000000000, "scope": "{{(i == 2 ? "global" : "grant")}}"{{(i == 1 ? ", \"algorithm\": \"sliding\"" : "")}} }"""));
    return Policy.Compile(PolicyDocument.Parse($$"""{ "version": "2", "default": "allow", "tools": { "t": { "limits": [ {{limits}} ] } } }"""));
}

static async Task<(long Done, TimeSpan Elapsed)> Measure(int callers, TimeSpan duration, Func<int, Task> call)
{
    // Count completed calls across all callers for the duration.
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

Console.WriteLine($"# PolicyEngine store load ({Environment.ProcessorCount} cores, {seconds} s per case, Redis {address})");
var configuration = RedisStoreConnection.Configure(address, TimeSpan.FromSeconds(5));
configuration.AllowAdmin = true; // CONFIG RESETSTAT and INFO, for the server-side columns
using var connection = await ConnectionMultiplexer.ConnectAsync(configuration);
var database = connection.GetDatabase();
var server = connection.GetServer(connection.GetEndPoints()[0]);
var store = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = "{pe-load-" + Guid.NewGuid().ToString("N")[..8] + "}:" });
var raw = "return 1";
var rawSha = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(raw));
await database.ScriptEvaluateAsync(raw);

// The counter script the store runs, invoked by a raw EVALSHA with keys and arguments built once per caller: the same
// server-side work as a decision, without the evaluator and the store's per-call client work.
static CounterRequest[] RawRequests(int counters, int caller) =>
[
    .. Enumerable.Range(0, counters).Select(i => new CounterRequest(
        i == 2 ? "raw-c2-global" : $"raw-c{i}-g{caller}",
        1,
        9_000_000_000_000,
        i == 1 ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(1),
        i == 1 ? LimitAlgorithm.Sliding : LimitAlgorithm.Fixed)),
];

// The cases of one caller count run interleaved, one second at a time, so that load from elsewhere on a shared
// machine falls on all of them alike. Per case: server CPU (user + sys, from INFO cpu) and the script's own time
// (INFO commandstats, evalsha) per call, and client CPU per call from this process's processor time.
var rounds = Math.Max(1, (int)Math.Round(seconds));
var slice = duration / rounds;

async Task<Result[]> Cases(int callers, (string Name, Func<int, Task> Call)[] cases)
{
    foreach (var (_, call) in cases)
    {
        for (var i = 0; i < 200; i++)
        {
            await call(0);
        }
    }

    var results = new Result[cases.Length];
    for (var round = 0; round < rounds; round++)
    {
        for (var c = 0; c < cases.Length; c++)
        {
            await server.ConfigResetStatisticsAsync();
            var cpuBefore = ServerCpu(await server.InfoAsync("cpu"));
            var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
            var (done, elapsed) = await Measure(callers, slice, cases[c].Call);
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
            var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientBefore;
            var cpuAfter = ServerCpu(await server.InfoAsync("cpu"));
            var stats = await server.InfoAsync("commandstats");
            var evalsha = stats.SelectMany(g => g).FirstOrDefault(p => p.Key == "cmdstat_evalsha").Value ?? "";
            results[c] = results[c].Add(done, elapsed.TotalSeconds, clientCpu.TotalMicroseconds, allocated, (cpuAfter - cpuBefore) * 1e6, Field(evalsha, "calls"), Field(evalsha, "usec"));
        }
    }

    return results;
}

static double ServerCpu(IGrouping<string, KeyValuePair<string, string>>[] info)
{
    var all = info.SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
    return double.Parse(all["used_cpu_user"], System.Globalization.CultureInfo.InvariantCulture)
        + double.Parse(all["used_cpu_sys"], System.Globalization.CultureInfo.InvariantCulture);
}

static double Field(string stat, string name)
{
    foreach (var part in stat.Split(','))
    {
        var eq = part.IndexOf('=');
        if (eq > 0 && part[..eq] == name)
        {
            return double.Parse(part[(eq + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    return 0;
}

static string Row(string name, int callers, Result r, double ceiling, double? sameScript) =>
    $"| {name} | {callers} | {r.Rate:N0} | {r.Rate / ceiling:P0} | {(sameScript is { } s ? (r.Rate / s).ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "")} | {r.ClientUs / r.Done:N1} | {r.AllocatedBytes / r.Done:N0} | {r.ServerUs / r.Done:N1} | {(r.ScriptCalls > 0 ? r.ScriptUs / r.ScriptCalls : 0):N1} |";

// PE_LOAD_CALLERS (for example "64") limits the caller counts, and PE_LOAD_ONLY (a substring of a case name) the cases
// run, so that one case can be profiled on its own (dotnet-trace collect -- dotnet PolicyEngine.StoreLoad.dll ...).
var only = Environment.GetEnvironmentVariable("PE_LOAD_ONLY");
var callerCounts = Environment.GetEnvironmentVariable("PE_LOAD_CALLERS") is { Length: > 0 } callerText ? [int.Parse(callerText, System.Globalization.CultureInfo.InvariantCulture)] : new[] { 1, 64 };
Console.WriteLine("| case | callers | ops/s | % of raw `return 1` | % of raw same script | client CPU µs/op | client B/op | Redis CPU µs/op | script µs/call |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
foreach (var callers in callerCounts)
{
    var cases = new List<(string Name, Func<int, Task> Call)>
    {
        ("raw EVALSHA `return 1` (1 key)", async _ => await database.ScriptEvaluateAsync(rawSha, [(RedisKey)"{pe-load}:raw"], [])),
    };
    foreach (var counters in new[] { 1, 3 })
    {
        var calls = Enumerable.Range(0, callers).Select(caller => store.ReserveScriptCall(RawRequests(counters, caller), DateTimeOffset.UtcNow)).ToArray();
        await database.ScriptEvaluateAsync(calls[0].ScriptText, calls[0].Keys, calls[0].Values);
        cases.Add(($"raw EVALSHA counter script, {counters} counter(s)", async caller =>
        {
            var c = calls[caller];
            await database.ScriptEvaluateAsync(c.ScriptSha1, c.Keys, c.Values);
        }));

        var storeRequests = Enumerable.Range(0, callers).Select(caller => RawRequests(counters, caller)).ToArray();
        cases.Add(($"RedisCounterStore.ReserveAsync, {counters} counter(s)", async caller =>
        {
            var result = await store.ReserveAsync(storeRequests[caller], DateTimeOffset.UtcNow);
            if (!result.Admitted)
            {
                throw new InvalidOperationException("refused");
            }
        }));

        var evaluator = new PolicyEvaluator(PolicyWith(counters), store);
        var identities = Enumerable.Range(0, callers).Select(i => new PolicyIdentity("load-" + i)).ToArray();
        cases.Add(($"EvaluateAsync, Redis, {counters} counter(s)", async caller =>
        {
            var decision = await evaluator.EvaluateAsync(identities[caller], "t", noArgs);
            if (decision.Kind != DecisionKind.Allow)
            {
                throw new InvalidOperationException(decision.ToString());
            }
        }));
    }

    if (only is { Length: > 0 })
    {
        cases = [cases[0], .. cases.Skip(1).Where(c => c.Name.Contains(only, StringComparison.Ordinal))];
        var onlyResults = await Cases(callers, [.. cases]);
        for (var i = 0; i < cases.Count; i++)
        {
            Console.WriteLine(Row(cases[i].Name, callers, onlyResults[i], onlyResults[0].Rate, null));
        }

        continue;
    }

    var results = await Cases(callers, [.. cases]);
    var ceiling = results[0].Rate;
    Console.WriteLine(Row(cases[0].Name, callers, results[0], ceiling, null));
    for (var c = 1; c < cases.Count; c += 3)
    {
        Console.WriteLine(Row(cases[c].Name, callers, results[c], ceiling, null));
        Console.WriteLine(Row(cases[c + 1].Name, callers, results[c + 1], ceiling, results[c].Rate));
        Console.WriteLine(Row(cases[c + 2].Name, callers, results[c + 2], ceiling, results[c].Rate));
    }
}

if (args.Length > 2 && args[2] == "redis")
{
    return;
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

/// <summary>Totals of one case over its rounds.</summary>
internal readonly record struct Result(long Done, double Seconds, double ClientUs, double AllocatedBytes, double ServerUs, double ScriptCalls, double ScriptUs)
{
    public double Rate => Done / Seconds;

    public Result Add(long done, double seconds, double clientUs, double allocatedBytes, double serverUs, double scriptCalls, double scriptUs) =>
        new(Done + done, Seconds + seconds, ClientUs + clientUs, AllocatedBytes + allocatedBytes, ServerUs + serverUs, ScriptCalls + scriptCalls, ScriptUs + scriptUs);
}
