using Microsoft.Data.Sqlite;
using PolicyEngine.Sqlite;
using PolicyEngine.Stores.Tests;
using PolicyEngine.Tests.Counters;

namespace PolicyEngine.Sqlite.Tests;

public sealed class SqliteCounterStoreTests : CounterStoreContractTests
{
    private readonly Dictionary<ICounterStore, string> _paths = [];

    protected override ICounterStore CreateStore()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        var store = new SqliteCounterStore(path);
        _paths.Add(store, path);
        return store;
    }

    protected override async ValueTask DisposeStoreAsync(ICounterStore store)
    {
        await base.DisposeStoreAsync(store);
        SqliteConnection.ClearAllPools();
        StoreTestEnvironment.DeleteDatabase(_paths[store]);
    }

    private static CounterRequest Day(string key, long amount, long max) => new(key, amount, max, TimeSpan.FromDays(1), LimitAlgorithm.Fixed);

    [Fact]
    public void Reserve_AfterReopeningTheFile_RemembersEveryCharge()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using (var first = new SqliteCounterStore(path))
            {
                Assert.True(first.Reserve([Day("spend", 70, 100)], T0).Admitted);
            }

            using var second = new SqliteCounterStore(path);
            var refused = second.Reserve([Day("spend", 31, 100)], T0.AddHours(1));
            Assert.False(refused.Admitted);
            Assert.True(second.Reserve([Day("spend", 30, 100)], T0.AddHours(1)).Admitted);
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Open_NewFile_IsInWalModeWithTheSchema()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using var store = new SqliteCounterStore(path);
            Assert.Equal(0, store.CountBuckets());
            using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", (string)command.ExecuteScalar()!);
            command.CommandText = "PRAGMA user_version";
            Assert.Equal(2L, (long)command.ExecuteScalar()!);
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Reserve_ManyKeysWhoseWindowsPass_ExpiredBucketsAreDeleted()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using var store = new SqliteCounterStore(new SqliteCounterStoreOptions { Path = path, CleanupInterval = TimeSpan.FromSeconds(1) });
            for (var i = 0; i < 500; i++)
            {
                Assert.True(store.Reserve([new CounterRequest("m/" + i, 1, 1, Minute, LimitAlgorithm.Fixed)], T0).Admitted);
                Assert.True(store.Reserve([new CounterRequest("s/" + i, 1, 1, Minute, LimitAlgorithm.Sliding)], T0).Admitted);
            }

            Assert.Equal(1_000, store.CountBuckets());

            // Kept one window beyond when they stop counting; after that the next reservation sweeps them.
            Assert.True(store.Reserve([new CounterRequest("later", 1, 1, Minute, LimitAlgorithm.Fixed)], T0.AddMinutes(3)).Admitted);
            Assert.Equal(1, store.CountBuckets());
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Reserve_OneCounterCharged_ForManyWindows_KeepsFewBuckets()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using var store = new SqliteCounterStore(new SqliteCounterStoreOptions { Path = path, CleanupInterval = TimeSpan.FromDays(1) });
            for (var i = 0; i < 300; i++)
            {
                Assert.True(store.Reserve([new CounterRequest("busy", 1, 1_000, Minute, LimitAlgorithm.Sliding)], T0.AddSeconds(7 * i)).Admitted);
            }

            Assert.True(store.CountBuckets() <= 2 * CounterSlot.SlidingBuckets + 2, $"{store.CountBuckets()} buckets kept");
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Reserve_TwoStoresOnOneFile_ShareTheLimitExactly()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using var a = new SqliteCounterStore(path);
            using var b = new SqliteCounterStore(path);
            var admitted = 0;
            Parallel.For(0, 400, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                var store = i % 2 == 0 ? a : b;
                if (store.Reserve([Day("shared", 1, 150)], T0).Admitted)
                {
                    Interlocked.Increment(ref admitted);
                }
            });

            Assert.Equal(150, admitted);
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Evaluate_HostileIdentitiesAndArguments_EachHaveTheirOwnCounter()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using var store = new SqliteCounterStore(path);
            StoreTestPolicies.AssertHostileKeysAreSeparate(store);
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public void Reserve_UnwritableFile_ThrowsAndTheEvaluatorFailsClosed()
    {
        var store = new SqliteCounterStore(Path.Combine("/proc", "no-such-dir", "counters.db"));
        Assert.ThrowsAny<Exception>(() => store.Reserve([Day("k", 1, 1)], T0));
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(StoreTestPolicies.KeyProbe), store);
        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "by_grant", StoreTestPolicies.NoArgs);
        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal("(store unavailable)", decision.Rule);
    }

    [Fact]
    public void Constructor_InvalidOptions_ReportsEveryProblem()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteCounterStore(new SqliteCounterStoreOptions { Path = " ", BusyTimeout = TimeSpan.Zero, CleanupInterval = TimeSpan.Zero }));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("SqliteCounterStoreOptions.Path is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("SqliteCounterStoreOptions.BusyTimeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("SqliteCounterStoreOptions.CleanupInterval must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DefaultOptionsWithAPath_AreValid()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("pe-sqlite-options-").FullName, "counters.db");
        using var store = new SqliteCounterStore(new SqliteCounterStoreOptions { Path = path });
        Assert.Equal(0, store.CountBuckets());
    }
}
