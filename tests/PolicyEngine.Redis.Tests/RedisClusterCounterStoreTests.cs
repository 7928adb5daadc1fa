using PolicyEngine.Redis;
using PolicyEngine.Stores.Tests;
using PolicyEngine.Tests.Counters;

namespace PolicyEngine.Redis.Tests;

/// <summary>
/// The store contract against a real Redis Cluster of three primaries, sharded layout. The contract's keys are not in
/// the evaluator's format, so each is tagged by its whole key and lands in a slot of its own: every multi-counter
/// scenario here runs the slot-by-slot protocol across primaries.
/// </summary>
public sealed class RedisClusterCounterStoreTests : CounterStoreContractTests
{
    protected override ICounterStore CreateStore() =>
        new RedisCounterStore(StoreTestEnvironment.Cluster, new RedisCounterStoreOptions
        {
            Layout = RedisCounterLayout.Sharded,
            KeyPrefix = StoreTestEnvironment.UniqueShardedPrefix(),
            Timeout = StoreTestEnvironment.RedisTimeout,
        });
}
