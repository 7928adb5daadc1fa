using System.Diagnostics;
using Microsoft.Data.Sqlite;
using PolicyEngine.Sqlite;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Sqlite.Tests;

public sealed class SqliteMultiProcessTests
{
    [Fact]
    public async Task Reserve_FourProcessesOnOneFile_AdmitExactlyMaxInTotal()
    {
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            using (var store = new SqliteCounterStore(path))
            {
                // Create the schema up front so the workers race only on reservations.
                Assert.Equal(0, store.CountBuckets());
            }

            var admitted = await StoreTestEnvironment.HammerAsync(4, "sqlite", path, "hammer", max: 400, attempts: 200);
            Assert.Equal(400, admitted.Sum());
        }
        finally
        {
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    [Fact]
    public async Task Reserve_ProcessKilledMidReservations_LosesNoCommittedChargeAndNeverExceedsMax()
    {
        const long Max = 100_000;
        var path = StoreTestEnvironment.TempDatabasePath();
        try
        {
            var key = "killed";
            var reported = 0L;
            for (var round = 0; round < 3; round++)
            {
                using var worker = StoreTestEnvironment.StartWorker("loop", "sqlite", path, key, Max.ToString(System.Globalization.CultureInfo.InvariantCulture));
                var target = reported + 200 + Random.Shared.Next(300);
                while (reported < target)
                {
                    var line = await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                    await StoreTestEnvironment.ExpectAsync(worker, line, line == "ok");
                    reported++;
                }

                // SIGKILL, in the middle of its stream of transactions.
                worker.Kill();
                await worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                while (await worker.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)) is "ok")
                {
                    reported++;
                }

                SqliteConnection.ClearAllPools();
                var stored = ReadCount(path);

                // Every reservation the worker saw committed is on disk; at most the one in flight when it died is extra.
                Assert.InRange(stored, reported, reported + 1);
                reported = stored;
            }

            // Whatever happened, the limit still holds exactly: fill it up and check nothing beyond max is admitted.
            using var store = new SqliteCounterStore(path);
            var request = new CounterRequest[] { new(key, 1, Max, TimeSpan.FromDays(1), LimitAlgorithm.Fixed) };
            // The worker charges at this fixed instant (the same day's window whatever the real clock says).
            var now = new DateTimeOffset(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
            Assert.True(store.Reserve([new CounterRequest(key, Max - reported, Max, TimeSpan.FromDays(1), LimitAlgorithm.Fixed)], now).Admitted);
            Assert.False(store.Reserve(request, now).Admitted);
            Assert.Equal(Max, ReadCount(path));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            StoreTestEnvironment.DeleteDatabase(path);
        }
    }

    private static long ReadCount(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(sum(count), 0) FROM pe_counter_buckets";
        return (long)command.ExecuteScalar()!;
    }
}
