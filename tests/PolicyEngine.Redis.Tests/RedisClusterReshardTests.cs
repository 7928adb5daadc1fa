using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Stores.Tests;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace PolicyEngine.Redis.Tests;

/// <summary>
/// Moves the hash slot holding an identity's counters to another primary and back (CLUSTER SETSLOT IMPORTING /
/// MIGRATING, MIGRATE key by key, SETSLOT NODE) while decisions run: every call keeps working through MOVED, ASK and
/// TRYAGAIN, and every counter ends holding exactly what was admitted.
/// </summary>
public sealed class RedisClusterReshardTests
{
    private const string Policy = """
        {
          "version": "2",
          "default": "allow",
          "tools": {
            "hot": { "limits": [
              { "counter": "first", "window": "day", "max": 10000000, "scope": "grant" },
              { "counter": "second", "window": "hour", "max": 10000000, "scope": "grant", "algorithm": "sliding" },
              { "counter": "shared", "window": "day", "max": 10000000, "scope": "global" } ] }
          }
        }
        """;

    [Fact]
    public async Task Evaluate_SlotMigratedToAnotherPrimaryAndBackWhileCallsRun_EveryCallDecidedAndCountsExact()
    {
        using var admin = StoreTestEnvironment.ConnectCluster();
        var store = new RedisCounterStore(admin, new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = StoreTestEnvironment.UniqueShardedPrefix(), Timeout = StoreTestEnvironment.RedisTimeout });
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero));
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(Policy), store, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout });
        var identity = new PolicyIdentity("mover-" + Guid.NewGuid().ToString("N"));

        // The three counters: two of the identity (one slot S), one global (another slot).
        var recorder = new RecordingCounterStore();
        var keys = recorder.Requests;
        new PolicyEvaluator(StoreTestPolicies.Compile(Policy), recorder, timeProvider: time).Evaluate(identity, "hot", StoreTestPolicies.NoArgs);
        var slot = store.HashSlotOf(keys[0].Key);
        Assert.Equal(slot, store.HashSlotOf(keys[1].Key));
        Assert.NotEqual(slot, store.HashSlotOf(keys[2].Key));
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "hot", StoreTestPolicies.NoArgs).Kind);
        var admitted = 1L;

        // Filler keys in slot S (same hash tag), so that each migration takes a while with the counters on both sides.
        var redisKey = store.RedisKeyOf(keys[0].Key);
        var tag = redisKey[redisKey.IndexOf('{')..(redisKey.IndexOf('}') + 1)];
        var database = admin.GetDatabase();
        var fillers = Enumerable.Range(0, 30).Select(i => (RedisKey)("pe-reshard-filler:" + tag + ":" + i.ToString(CultureInfo.InvariantCulture))).ToArray();
        foreach (var filler in fillers)
        {
            await database.StringSetAsync(filler, "x", TimeSpan.FromMinutes(10));
        }

        var session = new ProfilingSession();
        admin.RegisterProfiler(() => session);
        using var stop = new CancellationTokenSource();
        var failures = new List<string>();
        long decided = 0;
        async Task CallAsync(bool sync)
        {
            while (!stop.IsCancellationRequested)
            {
                var decision = sync ? evaluator.Evaluate(identity, "hot", StoreTestPolicies.NoArgs) : await evaluator.EvaluateAsync(identity, "hot", StoreTestPolicies.NoArgs);
                Interlocked.Increment(ref decided);
                if (decision.Kind == DecisionKind.Allow)
                {
                    Interlocked.Increment(ref admitted);
                }
                else
                {
                    lock (failures)
                    {
                        failures.Add($"{decision.Kind} {decision.Rule} {decision.Reason}");
                    }
                }
            }
        }

        var callers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => CallAsync(sync: false)))
            .Concat(Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() => CallAsync(sync: true), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()))
            .ToArray();

        var source = Owner(admin, slot);
        var target = admin.GetServers().First(s => !s.IsReplica && !s.EndPoint.Equals(source.EndPoint));
        try
        {
            await Task.Delay(200);
            var before = Interlocked.Read(ref decided);
            await MigrateAsync(admin, slot, source, target, [.. keys.Take(2).Select(k => (RedisKey)store.RedisKeyOf(k.Key))]);
            var during = Interlocked.Read(ref decided) - before;
            await Task.Delay(200);
            await MigrateAsync(admin, slot, target, source, [.. keys.Take(2).Select(k => (RedisKey)store.RedisKeyOf(k.Key))]);
            await Task.Delay(200);
            Assert.True(during > 0, "no decision while the slot moved");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(60));
            await StabilizeAsync(admin, slot, source);
            foreach (var filler in fillers)
            {
                await database.KeyDeleteAsync(filler);
            }
        }

        var redirected = session.FinishProfiling().Count(c => c.RetransmissionOf is not null);
        Assert.Empty(failures);
        Assert.True(redirected > 0, "no call was redirected (MOVED/ASK): the test did not exercise the migration");

        // No charge lost, none counted twice (a TRYAGAIN is refused before the script runs, so it is retried safely).
        foreach (var key in keys)
        {
            long total = 0;
            foreach (var entry in await database.HashGetAllAsync(store.RedisKeyOf(key.Key)))
            {
                if (entry.Name != "h")
                {
                    total += (long)entry.Value;
                }
            }

            Assert.Equal(admitted, total);
        }
    }

    /// <summary>The primary serving <paramref name="slot"/>.</summary>
    private static IServer Owner(IConnectionMultiplexer connection, int slot)
    {
        foreach (var server in connection.GetServers())
        {
            if (server.IsReplica)
            {
                continue;
            }

            var nodes = server.ClusterNodes();
            var owner = nodes?.GetBySlot(slot);
            if (owner is not null)
            {
                return connection.GetServer(owner.EndPoint!);
            }
        }

        throw new InvalidOperationException("no primary serves slot " + slot);
    }

    private static async Task<string> IdAsync(IServer server) => (string)(await server.ExecuteAsync("CLUSTER", "MYID"))!;

    /// <summary>
    /// Redis Cluster's resharding steps for one slot, key by key with pauses: the counters first (one, then the
    /// other, so that for a while they sit on different primaries and a script naming both gets TRYAGAIN), then the
    /// rest; finally every primary learns the new owner.
    /// </summary>
    private static async Task MigrateAsync(IConnectionMultiplexer connection, int slot, IServer from, IServer to, RedisKey[] first)
    {
        var fromId = await IdAsync(from);
        var toId = await IdAsync(to);
        await to.ExecuteAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId);
        await from.ExecuteAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", toId);
        var target = (IPEndPoint)to.EndPoint;
        async Task MoveAsync(RedisKey key)
        {
            await from.ExecuteAsync("MIGRATE", target.Address.ToString(), target.Port, key, 0, 5000);
            await Task.Delay(25);
        }

        await MoveAsync(first[0]);

        // The counters are now split between the two primaries: a script naming both is refused with TRYAGAIN (which
        // the store retries) until the second one has moved too.
        var split = await Assert.ThrowsAsync<RedisServerException>(() => from.ExecuteAsync("EVAL", "return 1", 2, first[0], first[1]));
        Assert.StartsWith("TRYAGAIN", split.Message, StringComparison.Ordinal);
        var rest = (RedisResult[])(await from.ExecuteAsync("CLUSTER", "GETKEYSINSLOT", slot, 1000))!;
        foreach (var key in rest.Select(k => (RedisKey)(string)k!).Where(k => !first.Contains(k)).Concat(first.Skip(1)))
        {
            await MoveAsync(key);
        }

        // Whatever callers created on the source meanwhile (none expected: new keys of a migrating slot go to the target).
        while ((RedisResult[])(await from.ExecuteAsync("CLUSTER", "GETKEYSINSLOT", slot, 100))! is { Length: > 0 } left)
        {
            foreach (var key in left)
            {
                await MoveAsync((string)key!);
            }
        }

        foreach (var server in connection.GetServers().Where(s => !s.IsReplica))
        {
            await server.ExecuteAsync("CLUSTER", "SETSLOT", slot, "NODE", toId);
        }
    }

    /// <summary>After a failure: give the slot back to <paramref name="owner"/> wherever its keys are (best effort).</summary>
    private static async Task StabilizeAsync(IConnectionMultiplexer connection, int slot, IServer owner)
    {
        var ownerId = await IdAsync(owner);
        foreach (var server in connection.GetServers().Where(s => !s.IsReplica && !s.EndPoint.Equals(owner.EndPoint)))
        {
            var left = (RedisResult[])(await server.ExecuteAsync("CLUSTER", "GETKEYSINSLOT", slot, 1000))!;
            if (left.Length > 0)
            {
                await owner.ExecuteAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", await IdAsync(server));
                await server.ExecuteAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", ownerId);
                var target = (IPEndPoint)owner.EndPoint;
                foreach (var key in left)
                {
                    await server.ExecuteAsync("MIGRATE", target.Address.ToString(), target.Port, (string)key!, 0, 5000);
                }
            }
        }

        foreach (var server in connection.GetServers().Where(s => !s.IsReplica))
        {
            await server.ExecuteAsync("CLUSTER", "SETSLOT", slot, "NODE", ownerId);
        }

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && connection.GetServers().Any(s => (string?)s.Execute("CLUSTER", "INFO") is { } info && !info.Contains("cluster_state:ok", StringComparison.Ordinal)))
        {
            await Task.Delay(50);
        }
    }
}
