using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Redis;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Redis.Tests;

public sealed class RedisApprovalStoreTests : PolicyEngine.Tests.Approvals.ApprovalQueueContractTests
{
    private readonly Dictionary<IApprovalQueue, string> _prefixes = [];

    protected override IApprovalQueue CreateStore()
    {
        var prefix = StoreTestEnvironment.UniquePrefix();
        var store = new RedisApprovalStore(StoreTestEnvironment.Redis, new RedisApprovalStoreOptions { KeyPrefix = prefix, Timeout = StoreTestEnvironment.RedisTimeout });
        _prefixes[store] = prefix;
        return store;
    }

    /// <summary>A new connection and store over the same keys: what a restarted host sees.</summary>
    protected override IApprovalQueue? Reopen(IApprovalQueue store)
    {
        var connection = StoreTestEnvironment.ConnectRedis();
        return new RedisApprovalStore(connection, new RedisApprovalStoreOptions { KeyPrefix = _prefixes[store], Timeout = StoreTestEnvironment.RedisTimeout });
    }

    private static (RedisApprovalStore Store, FakeTimeProvider Time) NewStore()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        // The async calls are bounded by the store's timeout (1 s by default): these tests are not about faults, so
        // they get the same CI headroom as the counter store tests.
        return (new RedisApprovalStore(StoreTestEnvironment.Redis, new RedisApprovalStoreOptions { KeyPrefix = StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout }), time);
    }

    [Fact]
    public void TryConsume_Granted_SucceedsExactlyOnce()
    {
        var (store, time) = NewStore();
        var expires = time.GetUtcNow().AddMinutes(15);
        store.Approve("call-1", time.GetUtcNow(), expires);
        Assert.True(store.TryConsume("call-1", time.GetUtcNow(), out var seen));
        Assert.Equal(expires.ToUnixTimeMilliseconds(), seen.ToUnixTimeMilliseconds());
        Assert.False(store.TryConsume("call-1", time.GetUtcNow(), out _));
        Assert.False(store.TryConsume("call-2", time.GetUtcNow(), out _));
    }

    [Fact]
    public async Task TryConsumeAsync_AfterExpiry_Fails()
    {
        var (store, time) = NewStore();
        var expires = time.GetUtcNow().AddMinutes(15);
        await store.ApproveAsync("call", time.GetUtcNow(), expires, TestContext.Current.CancellationToken);
        var (consumed, _) = await store.TryConsumeAsync("call", expires, TestContext.Current.CancellationToken);
        Assert.False(consumed);
        store.Approve("past", time.GetUtcNow(), time.GetUtcNow().AddSeconds(-1));
        Assert.False(store.TryConsume("past", time.GetUtcNow(), out _));
    }

    [Fact]
    public async Task TryConsumeAsync_ManyConcurrentHostsOneApproval_ExactlyOneSucceeds()
    {
        var (store, time) = NewStore();
        using var otherConnection = StoreTestEnvironment.ConnectRedis();
        var other = new RedisApprovalStore(otherConnection, new RedisApprovalStoreOptions { KeyPrefix = "unused:", Timeout = StoreTestEnvironment.RedisTimeout });
        store.Approve("\uD800 hostile {id}\n", time.GetUtcNow(), time.GetUtcNow().AddMinutes(1));
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => store.TryConsumeAsync("\uD800 hostile {id}\n", time.GetUtcNow()).AsTask()));
        Assert.Equal(1, results.Count(r => r.Consumed));
        Assert.False(other.TryConsume("\uD800 hostile {id}\n", time.GetUtcNow(), out _));
    }
}
