using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PolicyEngine;
using PolicyEngine.Redis;
using StackExchange.Redis;

/// <summary>
/// Decisions per second on Redis Cluster: one primary against three, sharded layout against the single-slot layout.
/// Usage: <c>cluster ONE_PRIMARY THREE_PRIMARIES [seconds per case] [callers]</c>, each a configuration string of
/// cluster nodes (for example <c>127.0.0.1:7001</c> and <c>127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103</c>);
/// benchmarks/cluster-load.sh starts both clusters and runs this.
/// </summary>
internal static class ClusterLoad
{
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;

    public static async Task RunAsync(string[] args)
    {
        var one = args[0];
        var three = args[1];
        var seconds = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 5;
        var callerCounts = args.Length > 3 ? args[3].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() : [64, 256];
        Console.WriteLine($"# PolicyEngine Redis Cluster load ({Environment.ProcessorCount} cores, {seconds} s per case; 1 primary: {one}; 3 primaries: {three})");
        using var oneConnection = await ConnectAsync(one);
        using var threeConnection = await ConnectAsync(three);

        var policy = Policy.Compile(PolicyDocument.Parse("""
            { "version": "2", "default": "allow", "tools": { "t": { "limits": [
              { "counter": "c0", "window": "hour", "max": 9000000000000, "scope": "grant" } ] } } }
            """));

        Console.WriteLine("| case | primaries | callers | decisions/s | client CPU µs/op | Redis CPU µs/op (sum) | Redis CPU µs/op per node | busiest node CPU |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |");
        foreach (var callers in callerCounts)
        {
            // Identities cycle per caller so that counters (one per identity) spread over the slots.
            var identities = Enumerable.Range(0, callers * 16).Select(i => new PolicyIdentity("load-" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
            var cases = new List<(string Name, IConnectionMultiplexer Connection, Func<int, long, Task> Call)>();
            foreach (var (name, connection) in new[] { ("1", oneConnection), ("3", threeConnection) })
            {
                // A raw EVALSHA of `return 1` per call, keys spread over the slots like the counters: the ceiling.
                var db = connection.GetDatabase();
                byte[] rawSha = [];
                foreach (var server in connection.GetServers())
                {
                    rawSha = await server.ScriptLoadAsync("return 1");
                }

                var rawKeys = Enumerable.Range(0, identities.Length).Select(i => (RedisKey)("{pe-raw-" + i.ToString(CultureInfo.InvariantCulture) + "}")).ToArray();
                cases.Add(($"raw EVALSHA `return 1`, keys over all slots", connection, async (caller, i) => await db.ScriptEvaluateAsync(rawSha, [rawKeys[(caller * 16) + (int)(i % 16)]], [])));

                var sharded = new RedisCounterStore(connection, new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = "pe-load-" + Guid.NewGuid().ToString("N")[..8] + ":", Timeout = TimeSpan.FromSeconds(5) });
                var shardedEvaluator = new PolicyEvaluator(policy, sharded, options: new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromSeconds(5) });
                cases.Add(("EvaluateAsync, sharded layout, 1 grant counter", connection, (caller, i) => Decide(shardedEvaluator, identities[(caller * 16) + (int)(i % 16)])));

                if (name == "3")
                {
                    var single = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = "{pe-load-" + Guid.NewGuid().ToString("N")[..8] + "}:", Timeout = TimeSpan.FromSeconds(5) });
                    var singleEvaluator = new PolicyEvaluator(policy, single, options: new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromSeconds(5) });
                    cases.Add(("EvaluateAsync, single-slot layout, 1 grant counter", connection, (caller, i) => Decide(singleEvaluator, identities[(caller * 16) + (int)(i % 16)])));
                }
            }

            var results = await Interleaved(callers, seconds, cases);
            for (var c = 0; c < cases.Count; c++)
            {
                var r = results[c];
                var perNode = string.Join(" / ", r.ServerUs.Select(us => (us / r.Done).ToString("N1", CultureInfo.InvariantCulture)));
                var busiest = r.ServerUs.Max() / (r.Seconds * 1e6);
                Console.WriteLine($"| {cases[c].Name} | {cases[c].Connection.GetServers().Count(s => !s.IsReplica)} | {callers} | {r.Done / r.Seconds:N0} | {r.ClientUs / r.Done:N1} | {r.ServerUs.Sum() / r.Done:N1} | {perNode} | {busiest:P0} |");
            }
        }
    }

    private static async Task Decide(PolicyEvaluator evaluator, PolicyIdentity identity)
    {
        var decision = await evaluator.EvaluateAsync(identity, "t", NoArgs);
        if (decision.Kind != DecisionKind.Allow)
        {
            throw new InvalidOperationException(decision.ToString());
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = RedisStoreConnection.Configure(configuration, TimeSpan.FromSeconds(5));
        options.AllowAdmin = true; // INFO cpu per node
        var connection = await ConnectionMultiplexer.ConnectAsync(options);
        for (var i = 0; i < 100 && connection.GetServers().Any(s => !s.IsConnected); i++)
        {
            await Task.Delay(50);
        }

        return connection;
    }

    /// <summary>Runs the cases one second at a time, round after round, so that load from elsewhere falls on all alike.</summary>
    private static async Task<Totals[]> Interleaved(int callers, double seconds, List<(string Name, IConnectionMultiplexer Connection, Func<int, long, Task> Call)> cases)
    {
        foreach (var (_, _, call) in cases)
        {
            for (var i = 0; i < callers * 16; i++)
            {
                await call(i / 16, i % 16);
            }
        }

        var totals = cases.Select(c => new Totals(c.Connection.GetServers().Count(s => !s.IsReplica))).ToArray();
        var rounds = Math.Max(1, (int)Math.Round(seconds));
        var slice = TimeSpan.FromSeconds(seconds / rounds);
        for (var round = 0; round < rounds; round++)
        {
            for (var c = 0; c < cases.Count; c++)
            {
                var servers = cases[c].Connection.GetServers().Where(s => !s.IsReplica).OrderBy(s => s.EndPoint.ToString()).ToArray();
                var before = await Task.WhenAll(servers.Select(ServerCpuAsync));
                var clientBefore = Process.GetCurrentProcess().TotalProcessorTime;
                long done = 0;
                var stop = Stopwatch.StartNew();
                var call = cases[c].Call;
                await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
                {
                    long mine = 0;
                    while (stop.Elapsed < slice)
                    {
                        await call(caller, mine);
                        mine++;
                    }

                    Interlocked.Add(ref done, mine);
                }));
                var elapsed = stop.Elapsed.TotalSeconds;
                var client = (Process.GetCurrentProcess().TotalProcessorTime - clientBefore).TotalMicroseconds;
                var after = await Task.WhenAll(servers.Select(ServerCpuAsync));
                totals[c].Add(done, elapsed, client, [.. after.Zip(before, (a, b) => (a - b) * 1e6)]);
            }
        }

        return totals;
    }

    private static async Task<double> ServerCpuAsync(IServer server)
    {
        var all = (await server.InfoAsync("cpu")).SelectMany(g => g).ToDictionary(p => p.Key, p => p.Value);
        return double.Parse(all["used_cpu_user"], CultureInfo.InvariantCulture) + double.Parse(all["used_cpu_sys"], CultureInfo.InvariantCulture);
    }

    /// <summary>Totals of one case over its rounds.</summary>
    private sealed class Totals(int nodes)
    {
        public long Done { get; private set; }

        public double Seconds { get; private set; }

        public double ClientUs { get; private set; }

        public double[] ServerUs { get; } = new double[nodes];

        public void Add(long done, double seconds, double clientUs, double[] serverUs)
        {
            Done += done;
            Seconds += seconds;
            ClientUs += clientUs;
            for (var i = 0; i < serverUs.Length; i++)
            {
                ServerUs[i] += serverUs[i];
            }
        }
    }
}
