using System.Diagnostics;
using System.Globalization;
using PolicyEngine.Stores.Tests;
using StackExchange.Redis;

namespace PolicyEngine.Redis.Tests;

/// <summary>
/// Several processes on one three-primary Redis Cluster, sharded layout, with reservations that span slots on different
/// primaries: exact when nothing fails, never over max when processes are killed (SIGKILL) between slots.
/// </summary>
public sealed class RedisClusterProcessTests
{
    /// <summary>The instant the worker charges (its fixed "now").</summary>
    private static readonly DateTimeOffset WorkerNow = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private static RedisCounterStore Store(string prefix) =>
        new(StoreTestEnvironment.Cluster, new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = prefix, Timeout = StoreTestEnvironment.RedisTimeout });

    /// <summary>Counter keys whose slots ascend and lie on <paramref name="count"/> different primaries.</summary>
    private static string[] KeysOnDistinctPrimaries(RedisCounterStore store, string name, int count)
    {
        var connection = StoreTestEnvironment.Cluster;
        var keys = new List<string>();
        var nodes = new List<System.Net.EndPoint>();
        for (var i = 0; keys.Count < count; i++)
        {
            if (i > 100_000)
            {
                throw new InvalidOperationException($"no {count} keys on distinct primaries: " + string.Join(", ", connection.GetServers().Select(s => $"{s.EndPoint} {s.ServerType} {s.IsConnected}")));
            }

            var key = $"{name}-{i}";
            var node = connection.GetServer((RedisKey)store.RedisKeyOf(key)).EndPoint;
            if (!nodes.Contains(node))
            {
                keys.Add(key);
                nodes.Add(node);
            }
        }

        return [.. keys.OrderBy(store.HashSlotOf)];
    }

    private static async Task<long> CountAsync(RedisCounterStore store, string counterKey)
    {
        long total = 0;
        foreach (var entry in await StoreTestEnvironment.Cluster.GetDatabase().HashGetAllAsync(store.RedisKeyOf(counterKey)))
        {
            if (entry.Name != "h")
            {
                total += (long)entry.Value;
            }
        }

        return total;
    }

    private static string Join(IEnumerable<long> values) => string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    [Fact]
    public async Task Reserve_FourProcessesAcrossThreePrimaries_AdmitExactlyMaxInTotal()
    {
        StoreTestEnvironment.SkipWithoutCluster();
        var prefix = StoreTestEnvironment.UniqueShardedPrefix();
        var store = Store(prefix);
        var keys = KeysOnDistinctPrimaries(store, "hammer", 3);

        // The limiting counter is the middle slot: reservations charge the first slot, then may be refused by the
        // second and return the first one's charge.
        long[] maxes = [1_000_000, 600, 1_000_000];
        var admitted = await StoreTestEnvironment.HammerAsync(4, "redis-sharded", StoreTestEnvironment.ClusterAddress!, string.Join(",", keys), 0, attempts: 300, prefix, Join(maxes));
        Assert.Equal(600, admitted.Sum());
        foreach (var key in keys)
        {
            Assert.Equal(600, await CountAsync(store, key));
        }
    }

    [Fact]
    public async Task Reserve_ProcessKilledBetweenTwoSlots_LeavesOnlyTheFirstSlotChargedAndNeverOverAdmits()
    {
        StoreTestEnvironment.SkipWithoutCluster();
        var prefix = StoreTestEnvironment.UniqueShardedPrefix();
        var store = Store(prefix);
        var keys = KeysOnDistinctPrimaries(store, "stall", 2);
        const long Max = 5;

        // The worker charges the first slot, then hangs just before the script call of the second; SIGKILL it there.
        using var worker = StoreTestEnvironment.StartWorker("stall", "redis-sharded", StoreTestEnvironment.ClusterAddress!, string.Join(",", keys), $"{Max},{Max}", keys[1], prefix);
        var line = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await StoreTestEnvironment.ExpectAsync(worker, line, line == "between");
        worker.Kill();
        await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));

        // Under-admission, bounded by that one reservation: its first-slot charge stays until the window ends.
        Assert.Equal(1, await CountAsync(store, keys[0]));
        Assert.Equal(0, await CountAsync(store, keys[1]));
        var requests = keys.Select(k => new CounterRequest(k, 1, Max, Day, LimitAlgorithm.Fixed)).ToArray();
        var admitted = 0;
        while (store.Reserve(requests, WorkerNow).Admitted)
        {
            admitted++;
        }

        Assert.Equal(Max - 1, admitted);
        Assert.Equal(Max, await CountAsync(store, keys[0]));
        Assert.Equal(Max - 1, await CountAsync(store, keys[1]));
    }

    [Fact]
    public async Task Reserve_ProcessesKilledAtRandomMidReservations_NeverOverAdmitAndLeakAtMostOneReservationPerKill()
    {
        StoreTestEnvironment.SkipWithoutCluster();
        var prefix = StoreTestEnvironment.UniqueShardedPrefix();
        var store = Store(prefix);
        var keys = KeysOnDistinctPrimaries(store, "killed", 3);

        // The last slot's counter is the limit; the first two have room for everything.
        const long Max = 100_000;
        long[] maxes = [10 * Max, 10 * Max, Max];
        var reported = 0L;
        var kills = 0;
        for (var round = 0; round < 4; round++)
        {
            var workers = Enumerable.Range(0, 2).Select(_ => StoreTestEnvironment.StartWorker("loop", "redis-sharded", StoreTestEnvironment.ClusterAddress!, string.Join(",", keys), Join(maxes), prefix)).ToArray();
            try
            {
                var targets = workers.Select(_ => 50 + Random.Shared.Next(200)).ToArray();
                await Task.WhenAll(workers.Select(async (worker, w) =>
                {
                    for (var seen = 0; seen < targets[w]; seen++)
                    {
                        var line = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                        await StoreTestEnvironment.ExpectAsync(worker, line, line == "ok");
                    }
                }));

                // SIGKILL both, each somewhere in its stream of reservations (often between two slots).
                foreach (var worker in workers)
                {
                    worker.Kill();
                    kills++;
                }

                foreach (var worker in workers)
                {
                    await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                    while (await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) is "ok")
                    {
                        reported++;
                    }
                }

                reported += targets.Sum();
            }
            finally
            {
                foreach (var worker in workers)
                {
                    worker.Dispose();
                }
            }

            // The last slot is charged only by reservations that were admitted: every reported one, plus at most the
            // one each killed worker had in flight after its last "ok". The earlier slots hold that plus what killed
            // reservations took before dying between slots: at most one reservation per kill.
            var limit = await CountAsync(store, keys[2]);
            Assert.InRange(limit, reported, reported + kills);
            foreach (var earlier in keys[..2])
            {
                Assert.InRange(await CountAsync(store, earlier), limit, limit + kills);
            }
        }

        // Whatever happened, the limit holds exactly: nothing more than max is ever admitted.
        var last = await CountAsync(store, keys[2]);
        var fill = keys.Select((k, i) => new CounterRequest(k, i == 2 ? Max - last : 0, maxes[i], Day, LimitAlgorithm.Fixed)).ToArray();
        Assert.True(store.Reserve(fill, WorkerNow).Admitted);
        Assert.False(store.Reserve(keys.Select((k, i) => new CounterRequest(k, 1, maxes[i], Day, LimitAlgorithm.Fixed)).ToArray(), WorkerNow).Admitted);
        Assert.Equal(Max, await CountAsync(store, keys[2]));
    }
}
