using System.Text;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Stores.Tests;
using StackExchange.Redis;
using StackExchange.Redis.Profiling;

namespace PolicyEngine.Redis.Tests;

/// <summary>The sharded layout on a real three-primary Redis Cluster: slots, round trips, hostile keys, the multi-slot protocol.</summary>
public sealed class RedisClusterTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);
    private static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    private const string MixedPolicy = """
        {
          "version": "2",
          "default": "allow",
          "tools": {
            "grants": { "limits": [
              { "counter": "per_minute", "window": "minute", "max": 5, "scope": "grant" },
              { "counter": "per_hour", "window": "hour", "max": 50, "scope": "grant", "algorithm": "sliding" },
              { "counter": "per_day", "window": "day", "max": 500, "scope": "grant" } ] },
            "mixed": { "limits": [
              { "counter": "mine", "window": "minute", "max": 100, "scope": "grant" },
              { "counter": "everyone", "window": "minute", "max": 3, "scope": "global" } ] }
          }
        }
        """;

    private static RedisCounterStore Sharded(IConnectionMultiplexer? connection = null) =>
        new(connection ?? StoreTestEnvironment.Cluster, new RedisCounterStoreOptions
        {
            Layout = RedisCounterLayout.Sharded,
            KeyPrefix = StoreTestEnvironment.UniqueShardedPrefix(),
            Timeout = StoreTestEnvironment.RedisTimeout,
        });

    private static IServer AnyPrimary(IConnectionMultiplexer connection) =>
        connection.GetServers().First(s => s.IsConnected && !s.IsReplica);

    /// <summary>Two counter keys (not in the evaluator's format) whose slots are ascending and on different primaries.</summary>
    private static (string First, string Second) KeysOnTwoPrimaries(RedisCounterStore store, string name)
    {
        var connection = StoreTestEnvironment.Cluster;
        for (var i = 0; i < 10_000; i++)
        {
            var a = $"{name}-a{i}";
            var b = $"{name}-b{i}";
            var (slotA, slotB) = (store.HashSlotOf(a), store.HashSlotOf(b));
            var nodeA = connection.GetServer((RedisKey)store.RedisKeyOf(a)).EndPoint;
            var nodeB = connection.GetServer((RedisKey)store.RedisKeyOf(b)).EndPoint;
            if (slotA < slotB && !nodeA.Equals(nodeB))
            {
                return (a, b);
            }
        }

        throw new InvalidOperationException("no two keys on different primaries: " + string.Join(", ", connection.GetServers().Select(s => $"{s.EndPoint} {s.ServerType} {s.IsConnected}")));
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

    [Fact]
    public async Task HashSlotOf_HostileIdentities_IsTheSlotRedisClusterComputes()
    {
        var store = Sharded();
        var server = AnyPrimary(StoreTestEnvironment.Cluster);
        var recorder = new RecordingCounterStore();
        var capture = recorder.Requests;
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(StoreTestPolicies.KeyProbe), recorder);
        foreach (var value in StoreTestPolicies.HostileValues)
        {
            evaluator.Evaluate(new PolicyIdentity(value), "by_grant", StoreTestPolicies.NoArgs);
            evaluator.Evaluate(new PolicyIdentity(value), "by_arg", StoreTestPolicies.Args("{\"customer\":\"" + StoreTestPolicies.Escape(value) + "\"}"));
        }

        Assert.Equal(2 * StoreTestPolicies.HostileValues.Length, capture.Count);
        foreach (var request in capture)
        {
            var redisKey = store.RedisKeyOf(request.Key);
            var slot = (int)await server.ExecuteAsync("CLUSTER", "KEYSLOT", redisKey);
            Assert.Equal(slot, store.HashSlotOf(request.Key));
            Assert.Equal(slot, StoreTestEnvironment.Cluster.HashSlot(redisKey));
        }

        Assert.Equal(12182, (int)await server.ExecuteAsync("CLUSTER", "KEYSLOT", "foo"));
        Assert.Equal(RedisKeys.KeySlot("foo"u8), (int)await server.ExecuteAsync("CLUSTER", "KEYSLOT", "foo"));
    }

    [Fact]
    public void Evaluate_HostileIdentitiesAndArguments_EachHaveTheirOwnCounterWithoutCrossSlotErrors()
    {
        StoreTestPolicies.AssertHostileKeysAreSeparate(Sharded());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Evaluate_OneIdentitysGrantCounters_AreOneEvalShaOnOnePrimary(bool async)
    {
        using var connection = StoreTestEnvironment.ConnectCluster();
        var store = Sharded(connection);
        var time = new FakeTimeProvider(T0);
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(MixedPolicy), store, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout });
        var alice = new PolicyIdentity("alice {" + Guid.NewGuid().ToString("N") + "}");

        // Warm: load the scripts on every primary (a first use is EVALSHA, NOSCRIPT, EVAL).
        foreach (var server in connection.GetServers())
        {
            await server.ScriptLoadAsync(CounterScripts.Reserve.Text);
        }

        var session = new ProfilingSession();
        connection.RegisterProfiler(() => session);
        for (var i = 0; i < 5; i++)
        {
            var decision = async ? await evaluator.EvaluateAsync(alice, "grants", StoreTestPolicies.NoArgs) : evaluator.Evaluate(alice, "grants", StoreTestPolicies.NoArgs);
            Assert.Equal(DecisionKind.Allow, decision.Kind);
        }

        var limited = async ? await evaluator.EvaluateAsync(alice, "grants", StoreTestPolicies.NoArgs) : evaluator.Evaluate(alice, "grants", StoreTestPolicies.NoArgs);
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/tools/grants/limits/0", limited.Rule);
        var commands = session.FinishProfiling().ToArray();
        Assert.Equal(Enumerable.Repeat("EVALSHA", 6), commands.Select(c => c.Command));
        Assert.Single(commands.Select(c => c.EndPoint).Distinct());
    }

    [Fact]
    public async Task Evaluate_GrantAndGlobalCounters_ReserveSlotBySlotAndNeverExceedEitherLimit()
    {
        var store = Sharded();
        var time = new FakeTimeProvider(T0);
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(MixedPolicy), store, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout });
        var identities = Enumerable.Range(0, 8).Select(i => new PolicyIdentity("user-" + i)).ToArray();

        // 8 identities x 4 calls against a global limit of 3 a minute: exactly 3 admitted, whatever the slot order.
        var decisions = await Task.WhenAll(identities.SelectMany(id => Enumerable.Range(0, 4).Select(_ => evaluator.EvaluateAsync(id, "mixed", StoreTestPolicies.NoArgs).AsTask())));
        Assert.Equal(3, decisions.Count(d => d.Kind == DecisionKind.Allow));
        Assert.All(decisions.Where(d => d.Kind != DecisionKind.Allow), d => Assert.Equal("/tools/mixed/limits/1", d.Rule));

        // The refused calls returned their grant charges: each identity's own counter holds only its admitted calls.
        var recorder = new RecordingCounterStore();
        var grantKeys = recorder.Requests;
        var probe = new PolicyEvaluator(StoreTestPolicies.Compile(MixedPolicy), recorder, timeProvider: time);
        long held = 0;
        foreach (var identity in identities)
        {
            probe.Evaluate(identity, "mixed", StoreTestPolicies.NoArgs);
            held += await CountAsync(store, grantKeys[^2].Key);
        }

        Assert.Equal(3, held);
        Assert.Equal(3, await CountAsync(store, grantKeys[^1].Key));
    }

    [Fact]
    public async Task Reserve_LaterSlotRefuses_EarlierSlotIsReturnedAndTheLowestRefusedIndexReported()
    {
        var store = Sharded();
        var (first, second) = KeysOnTwoPrimaries(store, "refuse");
        Assert.True(store.Reserve([new CounterRequest(second, 1, 1, Minute, LimitAlgorithm.Fixed)], T0).Admitted);

        // The first slot (charged first) has room; the second refuses: the first one's charge is returned.
        var refused = store.Reserve([new CounterRequest(second, 1, 1, Minute, LimitAlgorithm.Fixed), new CounterRequest(first, 1, 1, Minute, LimitAlgorithm.Fixed)], T0);
        Assert.False(refused.Admitted);
        Assert.Equal(0, refused.LimitingIndex);
        Assert.Equal(0, await CountAsync(store, first));
        Assert.Equal(1, await CountAsync(store, second));

        // Both full: the lowest refused index is reported, though the first slot refused first (the second is peeked).
        Assert.True(store.Reserve([new CounterRequest(first, 1, 1, Minute, LimitAlgorithm.Fixed)], T0).Admitted);
        var both = await store.ReserveAsync([new CounterRequest(second, 1, 1, Minute, LimitAlgorithm.Fixed), new CounterRequest(first, 1, 1, Minute, LimitAlgorithm.Fixed)], T0, TestContext.Current.CancellationToken);
        Assert.False(both.Admitted);
        Assert.Equal(0, both.LimitingIndex);
        Assert.Equal(0, store.Reserve([new CounterRequest(second, 1, 1, Minute, LimitAlgorithm.Fixed), new CounterRequest(first, 1, 1, Minute, LimitAlgorithm.Fixed)], T0).LimitingIndex);
        var peek = store.Peek([new CounterRequest(second, 1, 1, Minute, LimitAlgorithm.Fixed), new CounterRequest(first, 1, 1, Minute, LimitAlgorithm.Fixed)], T0);
        Assert.Equal(0, peek.LimitingIndex);
        Assert.Equal(1, await CountAsync(store, first));
        Assert.Equal(1, await CountAsync(store, second));
    }

    [Fact]
    public async Task Release_ChargesOnTwoPrimaries_ReturnsEachInItsOwnSlot()
    {
        using var connection = StoreTestEnvironment.ConnectCluster();
        var store = Sharded(connection);
        var (first, second) = KeysOnTwoPrimaries(store, "release");
        CounterRequest[] requests = [new(first, 3, 10, Minute, LimitAlgorithm.Fixed), new(second, 2, 10, Minute, LimitAlgorithm.Sliding), new(first + "x", 0, 10, Minute, LimitAlgorithm.Fixed)];
        var sync = store.Reserve(requests, T0).Reservation!;
        var async = (await store.ReserveAsync(requests, T0, TestContext.Current.CancellationToken)).Reservation!;
        Assert.Equal(6, await CountAsync(store, first));
        Assert.Equal(4, await CountAsync(store, second));

        // Load the rollback script on every primary first (a first use is EVALSHA, NOSCRIPT, EVAL).
        foreach (var server in connection.GetServers())
        {
            await server.ScriptLoadAsync(CounterScripts.Release.Text);
        }

        var session = new ProfilingSession();
        connection.RegisterProfiler(() => session);
        store.Release(sync, T0.AddSeconds(1));
        await store.ReleaseAsync(async, T0.AddSeconds(1), TestContext.Current.CancellationToken);
        Assert.Equal(["EVALSHA", "EVALSHA", "EVALSHA", "EVALSHA"], session.FinishProfiling().Select(c => c.Command).ToArray());
        Assert.Equal(0, await CountAsync(store, first));
        Assert.Equal(0, await CountAsync(store, second));
    }

    [Fact]
    public void Constructor_SingleSlotLayoutOnTheCluster_KeepsEveryCounterInThePrefixSlot()
    {
        // The default layout still works on a cluster: one slot, any counters, one atomic call.
        var store = new RedisCounterStore(StoreTestEnvironment.Cluster, new RedisCounterStoreOptions { KeyPrefix = StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout });
        CounterRequest[] requests = [new("a", 1, 2, Minute, LimitAlgorithm.Fixed), new("b", 1, 1, Minute, LimitAlgorithm.Sliding), new("c", 1, 5, Minute, LimitAlgorithm.Fixed)];
        Assert.True(store.Reserve(requests, T0).Admitted);
        var refused = store.Reserve(requests, T0);
        Assert.False(refused.Admitted);
        Assert.Equal(1, refused.LimitingIndex);
        Assert.Equal(store.HashSlotOf("a"), store.HashSlotOf("c"));
        Assert.Equal(StoreTestEnvironment.Cluster.HashSlot(store.RedisKeyOf("b")), store.HashSlotOf("b"));
    }
}
