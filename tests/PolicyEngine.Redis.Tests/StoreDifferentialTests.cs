using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Redis.Tests;

/// <summary>Random call sequences through <see cref="PolicyEvaluator"/>: in-memory, SQLite, Redis and sharded Redis Cluster decide alike.</summary>
public sealed class StoreDifferentialTests
{
    private const string Policy = """
        {
          "version": "2",
          "default": "allow",
          "all_tools": { "limits": [ { "counter": "all", "window": "10s", "max": 7, "scope": "tool" } ] },
          "tools": {
            "a": { "limits": [ { "counter": "a_min", "window": "minute", "max": 3, "scope": "grant" } ] },
            "b": { "limits": [
              { "counter": "b_slide", "window": "1m", "max": 5, "scope": "global", "algorithm": "sliding", "cost_from": "args.n" },
              { "counter": "b_hour", "window": "hour", "max": 8, "scope": "grant" } ] },
            "c": { "limits": [ { "counter": "c_cust", "window": "30s", "max": 2, "scope": "args.customer", "algorithm": "sliding" } ] },
            "d": {}
          }
        }
        """;

    private static readonly string[] Tools = ["a", "b", "c", "d"];
    private static readonly string[] Identities = ["alice", "bob", "a:b", "\uD800"];

    /// <summary>One call: who, which tool, an argument, how long after the previous call, and whether it fails upstream.</summary>
    public sealed record Call(int Identity, int Tool, int N, int AdvanceMs, bool Fails);

    private static Arbitrary<Call[]> Calls() =>
        (from identity in Gen.Choose(0, Identities.Length - 1)
         from tool in Gen.Choose(0, Tools.Length - 1)
         from n in Gen.Choose(0, 3)
         from advance in Gen.OneOf(Gen.Choose(0, 500), Gen.Choose(0, 15_000), Gen.Constant(59_999))
         from fails in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
         select new Call(identity, tool, n, advance, fails))
        .ArrayOf()
        .Select(calls => calls.Take(60).ToArray())
        .ToArbitrary();

    [Fact]
    public void Evaluate_RandomCallSequences_SameDecisionsOnEveryStore()
    {
        var policy = StoreTestPolicies.Compile(Policy);
        Prop.ForAll(Calls(), calls => Run(policy, calls)).QuickCheckThrowOnFailure();
    }

    private static void Run(PolicyEngine.Policy policy, Call[] calls)
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 6, 30, 23, 59, 0, TimeSpan.Zero));
        using var sqlite = new SqliteCounterStore(path);
        var stores = new List<(string Name, PolicyEvaluator Evaluator)>
        {
            ("memory", new PolicyEvaluator(policy, new InMemoryCounterStore(), timeProvider: time)),
            ("sqlite", new PolicyEvaluator(policy, sqlite, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout })),
        };
        if (StoreTestEnvironment.RedisAddress is not null)
        {
            var redis = new RedisCounterStore(StoreTestEnvironment.Redis, new RedisCounterStoreOptions { KeyPrefix = StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout });
            // The evaluator's own async timeout (2 s by default) must not turn a CI latency spike into a fault either.
            stores.Add(("redis", new PolicyEvaluator(policy, redis, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout })));
        }

        if (StoreTestEnvironment.ClusterAddress is not null)
        {
            // Sharded over three primaries: tool b's global and grant counters live in different slots, so its calls
            // run the slot-by-slot protocol, and must still decide exactly as one atomic store does.
            var sharded = new RedisCounterStore(StoreTestEnvironment.Cluster, new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = StoreTestEnvironment.UniqueShardedPrefix(), Timeout = StoreTestEnvironment.RedisTimeout });
            stores.Add(("redis cluster, sharded", new PolicyEvaluator(policy, sharded, timeProvider: time, options: new PolicyEvaluatorOptions { StoreTimeout = StoreTestEnvironment.RedisTimeout })));
        }

        try
        {
            for (var i = 0; i < calls.Length; i++)
            {
                var call = calls[i];
                time.Advance(TimeSpan.FromMilliseconds(call.AdvanceMs));
                var identity = new PolicyIdentity(Identities[call.Identity]);
                var args = StoreTestPolicies.Args($$"""{ "n": {{call.N}}, "customer": "c{{call.N % 2}}" }""");
                var decisions = new Decision[stores.Count];
                for (var s = 0; s < stores.Count; s++)
                {
                    decisions[s] = i % 3 == 0
                        ? stores[s].Evaluator.EvaluateAsync(identity, Tools[call.Tool], args).AsTask().GetAwaiter().GetResult()
                        : stores[s].Evaluator.Evaluate(identity, Tools[call.Tool], args);
                }

                for (var s = 1; s < stores.Count; s++)
                {
                    var expected = decisions[0];
                    var actual = decisions[s];
                    if (expected.Kind != actual.Kind || expected.Rule != actual.Rule || expected.RetryAfter != actual.RetryAfter)
                    {
                        throw new InvalidOperationException($"call {i} ({call}): {stores[0].Name} said {expected} retry {expected.RetryAfter}, {stores[s].Name} said {actual} retry {actual.RetryAfter}");
                    }
                }

                if (call.Fails)
                {
                    for (var s = 0; s < stores.Count; s++)
                    {
                        stores[s].Evaluator.Complete(decisions[s], succeeded: false);
                    }
                }
            }
        }
        finally
        {
            sqlite.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }
}
