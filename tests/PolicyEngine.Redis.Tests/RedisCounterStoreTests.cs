using PolicyEngine.Redis;
using PolicyEngine.Stores.Tests;
using PolicyEngine.Tests.Counters;
using StackExchange.Redis;

namespace PolicyEngine.Redis.Tests;

public sealed class RedisCounterStoreTests : CounterStoreContractTests
{
    protected override ICounterStore CreateStore() =>
        new RedisCounterStore(StoreTestEnvironment.Redis, new RedisCounterStoreOptions { KeyPrefix = StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout });

    private static (RedisCounterStore Store, IDatabase Database) NewStore(string? prefix = null)
    {
        var connection = StoreTestEnvironment.Redis;
        return (new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = prefix ?? StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout }), connection.GetDatabase());
    }

    [Fact]
    public void RedisKeyOf_AnyKey_IsThePrefixAndAFixedLengthHash()
    {
        var store = new RedisCounterStore(Unconnected(), new RedisCounterStoreOptions { KeyPrefix = "{app}:" });
        foreach (var value in StoreTestPolicies.HostileValues)
        {
            var key = store.RedisKeyOf(value);
            Assert.Matches("^\\{app\\}:c:[0-9a-f]{64}$", key);
        }

        Assert.NotEqual(store.RedisKeyOf("\uD800"), store.RedisKeyOf("\uDC00"));
        Assert.NotEqual(store.RedisKeyOf("\uD800"), store.RedisKeyOf("\uFFFD"));
    }

    [Theory]
    [InlineData("policyengine:")]
    [InlineData("{}:")]
    [InlineData("}a{")]
    [InlineData("{open:")]
    public void Constructor_PrefixWithoutHashTag_IsRejected(string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisCounterStore(Unconnected(), new RedisCounterStoreOptions { KeyPrefix = prefix }));
        Assert.Contains("hash tag", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_InvalidOptions_ReportsEveryProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisCounterStore(
            Unconnected(),
            new RedisCounterStoreOptions { KeyPrefix = "x", Timeout = TimeSpan.Zero, ClockSkew = TimeSpan.FromSeconds(-1), Database = -2 }));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.KeyPrefix 'x' must contain a non-empty Redis Cluster hash tag", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.Timeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.ClockSkew must not be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.Database must be -1", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.ClockSkew must be positive when EnforceClockSkew is set", Assert.Throws<ArgumentException>(() => new RedisCounterStore(
            Unconnected(),
            new RedisCounterStoreOptions { ClockSkew = TimeSpan.Zero, EnforceClockSkew = true })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reserve_AfterTheServerForgetsItsScripts_ReloadsThemAndCarriesOn()
    {
        var (store, _) = NewStore();
        var request = new CounterRequest("k", 1, 3, Minute, LimitAlgorithm.Fixed);
        Assert.True(store.Reserve([request], T0).Admitted);
        await FlushScriptsAsync();

        Assert.True((await store.ReserveAsync([request], T0, TestContext.Current.CancellationToken)).Admitted);
        await FlushScriptsAsync();

        Assert.True(store.Reserve([request], T0).Admitted);
        Assert.False(store.Reserve([request], T0).Admitted);
    }

    [Fact]
    public async Task Reserve_Charged_KeyIsAHashWithAnExpiry()
    {
        var (store, database) = NewStore();

        // An instant 30 s into its minute (virtual: the time to live is measured from it, the expiry set on the
        // server's clock), so the expected time to live does not depend on when in the minute the test runs: from the
        // real clock, a charge in the last milliseconds of a minute left a time to live of just over 2 minutes, and a
        // slow read of it then fell below the bound.
        var now = new DateTimeOffset(2026, 3, 14, 10, 0, 30, TimeSpan.Zero);
        Assert.True(store.Reserve([new CounterRequest("k", 2, 5, Minute, LimitAlgorithm.Fixed)], now).Admitted);
        var key = store.RedisKeyOf("k");
        Assert.Equal(RedisType.Hash, await database.KeyTypeAsync(key));
        var ttl = await database.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);

        // Until the window ends (30 s), plus one window for late-stamped calls, plus the one-minute skew allowance:
        // 2.5 minutes, less however long the test took to read it back.
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(150) - StoreTestEnvironment.RedisTimeout, TimeSpan.FromSeconds(150));
        var fields = await database.HashGetAllAsync(key);
        var bucket = Assert.Single(fields);
        Assert.Equal("2", (string?)bucket.Value);
    }

    [Fact]
    public async Task Reserve_NewWindowOfAnExistingKey_PushesItsExpiryLater()
    {
        // The script sets the expiry when a charge creates a bucket, and only ever later (PEXPIRE ... GT).
        var (store, database) = NewStore();
        var request = new CounterRequest("k", 1, 5, Minute, LimitAlgorithm.Fixed);
        var now = DateTimeOffset.UtcNow;
        Assert.True(store.Reserve([request], now).Admitted);
        var key = store.RedisKeyOf("k");
        Assert.True(await database.KeyExpireAsync(key, TimeSpan.FromSeconds(30)));

        Assert.True(store.Reserve([request], now.AddMinutes(1)).Admitted);
        var ttl = (await database.KeyTimeToLiveAsync(key))!.Value;
        Assert.InRange(ttl, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(5));

        Assert.True(await database.KeyExpireAsync(key, TimeSpan.FromHours(1)));
        Assert.True(store.Reserve([request], now.AddMinutes(2)).Admitted);
        Assert.True((await database.KeyTimeToLiveAsync(key))!.Value > TimeSpan.FromMinutes(50));
    }

    [Fact]
    public async Task Reserve_VirtualTimeFarInThePast_KeyStillLivesOnTheServerClock()
    {
        // The evaluator may run on a clock far from the server's: expiry is a time to live, so nothing vanishes early.
        var (store, database) = NewStore();
        var past = new DateTimeOffset(2001, 1, 1, 0, 0, 30, TimeSpan.Zero);
        var request = new CounterRequest("k", 1, 1, Minute, LimitAlgorithm.Fixed);
        Assert.True(store.Reserve([request], past).Admitted);
        Assert.True(await database.KeyExistsAsync(store.RedisKeyOf("k")));
        Assert.False(store.Reserve([request], past.AddSeconds(10)).Admitted);
    }

    [Fact]
    public async Task Reserve_OneCounterForManyWindows_KeepsFewFields()
    {
        var (store, database) = NewStore();
        for (var i = 0; i < 300; i++)
        {
            Assert.True(store.Reserve([new CounterRequest("busy", 1, 1_000, Minute, LimitAlgorithm.Sliding)], T0.AddSeconds(7 * i)).Admitted);
        }

        var length = await database.HashLengthAsync(store.RedisKeyOf("busy"));
        Assert.True(length <= (2 * CounterSlot.SlidingBuckets) + 3, $"{length} fields kept");
    }

    [Fact]
    public async Task Reserve_FixedCounterOverManyWindowsWithLateCallers_KeepsFewFields()
    {
        // Charges to an existing bucket take the script's fast path, which prunes nothing; the charge that opens the
        // next window prunes, so a counter used for hours (with callers stamped up to a window late) keeps a few fields.
        var (store, database) = NewStore();
        var request = new CounterRequest("busy", 1, 1_000, Minute, LimitAlgorithm.Fixed);
        for (var i = 0; i < 200; i++)
        {
            var now = T0.AddSeconds(20 * i);
            Assert.True(store.Reserve([request], now).Admitted);
            Assert.True(store.Reserve([request], now).Admitted);
            Assert.True(store.Reserve([request], now.AddSeconds(-30)).Admitted);
        }

        var length = await database.HashLengthAsync(store.RedisKeyOf("busy"));
        Assert.True(length <= 4, $"{length} fields kept");
    }

    [Fact]
    public void Reserve_EnforcedClockSkewExceeded_ThrowsAndChargesNothing()
    {
        var connection = StoreTestEnvironment.Redis;
        var prefix = StoreTestEnvironment.UniquePrefix();
        var strict = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = prefix, ClockSkew = TimeSpan.FromSeconds(5), EnforceClockSkew = true, Timeout = StoreTestEnvironment.RedisTimeout });
        var request = new CounterRequest("k", 1, 1, Minute, LimitAlgorithm.Fixed);
        var error = Assert.Throws<RedisServerException>(() => strict.Reserve([request], DateTimeOffset.UtcNow.AddMinutes(-10)));
        Assert.Contains("clock", error.Message, StringComparison.Ordinal);
        Assert.True(strict.Reserve([request], DateTimeOffset.UtcNow).Admitted);
    }

    [Fact]
    public void Evaluate_HostileIdentitiesAndArguments_EachHaveTheirOwnCounter()
    {
        var (store, _) = NewStore();
        StoreTestPolicies.AssertHostileKeysAreSeparate(store);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reserve_ThreeCounters_IsOneEvalShaRoundTrip(bool admitted)
    {
        using var connection = StoreTestEnvironment.ConnectRedis();
        var store = new RedisCounterStore(connection, new RedisCounterStoreOptions { KeyPrefix = StoreTestEnvironment.UniquePrefix(), Timeout = StoreTestEnvironment.RedisTimeout });
        var requests = new[]
        {
            new CounterRequest("a", 1, 10, Minute, LimitAlgorithm.Fixed),
            new CounterRequest("b", 1, admitted ? 10 : 0, Minute, LimitAlgorithm.Sliding),
            new CounterRequest("c", 1, 10, TimeSpan.FromHours(1), LimitAlgorithm.Fixed),
        };
        // Load both scripts first: a first use is EVALSHA, NOSCRIPT, EVAL, and whether the server already holds a script
        // depends on which tests ran before this one.
        var warm = new CounterRequest("warm", 1, 10, Minute, LimitAlgorithm.Fixed);
        store.Release(store.Reserve([warm], T0).Reservation!, T0);
        var session = new StackExchange.Redis.Profiling.ProfilingSession();
        connection.RegisterProfiler(() => session);
        var result = await store.ReserveAsync(requests, T0, TestContext.Current.CancellationToken);
        var peek = store.Peek(requests, T0);
        Assert.Equal(admitted, result.Admitted);
        Assert.Equal(admitted ? -1 : 1, result.LimitingIndex);
        Assert.Equal(["EVALSHA", "EVALSHA"], session.FinishProfiling().Select(c => c.Command).ToArray());
        if (result.Reservation is { } reservation)
        {
            session = new StackExchange.Redis.Profiling.ProfilingSession();
            await store.ReleaseAsync(reservation, T0, TestContext.Current.CancellationToken);
            Assert.Equal(["EVALSHA"], session.FinishProfiling().Select(c => c.Command).ToArray());
        }
    }

    private static async Task FlushScriptsAsync()
    {
        using var admin = StoreTestEnvironment.ConnectRedis();
        foreach (var endpoint in admin.GetEndPoints())
        {
            await admin.GetServer(endpoint).ScriptFlushAsync();
        }
    }

    [Fact]
    public async Task Reserve_FourProcessesOnOneLimit_AdmitExactlyMaxInTotal()
    {
        StoreTestEnvironment.SkipWithoutRedis();
        var prefix = StoreTestEnvironment.UniquePrefix();
        var admitted = await StoreTestEnvironment.HammerAsync(4, "redis", StoreTestEnvironment.RedisAddress!, "hammer", max: 600, attempts: 300, prefix);
        Assert.Equal(600, admitted.Sum());
    }

    /// <summary>A multiplexer that is never used (for constructor and key tests): every member returns null.</summary>
    public class NullProxy : System.Reflection.DispatchProxy
    {
        protected override object? Invoke(System.Reflection.MethodInfo? targetMethod, object?[]? args) => null;
    }

    internal static IConnectionMultiplexer Unconnected() => System.Reflection.DispatchProxy.Create<IConnectionMultiplexer, NullProxy>();
}
