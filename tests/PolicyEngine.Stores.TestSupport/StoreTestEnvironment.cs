using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using StackExchange.Redis;

namespace PolicyEngine.Stores.Tests;

/// <summary>Where the store tests find Redis, temporary files and the worker process.</summary>
public static class StoreTestEnvironment
{
    private static readonly Lazy<ConnectionMultiplexer?> SharedConnection = new(() => RedisAddress is null ? null : ConnectRedis());
    private static readonly Lazy<ConnectionMultiplexer?> SharedCluster = new(() => ClusterAddress is null ? null : ConnectCluster());

    /// <summary>
    /// The per-call timeout of stores in tests that are not about faults: generous, because CI runs every test
    /// assembly at once on two cores and a one-second latency spike is not a store failure.
    /// </summary>
    public static readonly TimeSpan RedisTimeout = TimeSpan.FromSeconds(10);

    /// <summary>A new connection to the test server (admin commands allowed, for SCRIPT FLUSH and INFO).</summary>
    public static ConnectionMultiplexer ConnectRedis()
    {
        SkipWithoutRedis();
        var options = PolicyEngine.Redis.RedisStoreConnection.Configure(RedisAddress!, RedisTimeout);
        options.AllowAdmin = true;
        return ConnectionMultiplexer.Connect(options);
    }

    /// <summary>The Redis server for tests (<c>POLICYENGINE_REDIS</c>, host:port), or <see langword="null"/> when unset.</summary>
    public static string? RedisAddress =>
        Environment.GetEnvironmentVariable("POLICYENGINE_REDIS") is { Length: > 0 } value ? value : null;

    /// <summary>Skips the calling test when <c>POLICYENGINE_REDIS</c> is unset (local runs only; CI always sets it).</summary>
    public static void SkipWithoutRedis() =>
        Assert.SkipWhen(RedisAddress is null, "POLICYENGINE_REDIS is not set (CI sets it; locally run a redis-server and export POLICYENGINE_REDIS=127.0.0.1:6379)");

    /// <summary>One connection shared by the tests (skips the test when Redis is not configured).</summary>
    public static ConnectionMultiplexer Redis
    {
        get
        {
            SkipWithoutRedis();
            return SharedConnection.Value!;
        }
    }

    /// <summary>A key prefix no other test uses, with a hash tag.</summary>
    public static string UniquePrefix() => "{pe-test-" + Guid.NewGuid().ToString("N") + "}:";

    /// <summary>A key prefix no other test uses, without braces (for the sharded layout).</summary>
    public static string UniqueShardedPrefix() => "pe-test-" + Guid.NewGuid().ToString("N") + ":";

    /// <summary>
    /// The Redis Cluster for tests (<c>POLICYENGINE_REDIS_CLUSTER</c>, host:port of its primaries separated by commas),
    /// or <see langword="null"/> when unset.
    /// </summary>
    public static string? ClusterAddress =>
        Environment.GetEnvironmentVariable("POLICYENGINE_REDIS_CLUSTER") is { Length: > 0 } value ? value : null;

    /// <summary>Skips the calling test when <c>POLICYENGINE_REDIS_CLUSTER</c> is unset (local runs only; CI always sets it).</summary>
    public static void SkipWithoutCluster() =>
        Assert.SkipWhen(ClusterAddress is null, "POLICYENGINE_REDIS_CLUSTER is not set (CI starts a three-primary cluster and sets it; see .ci/run)");

    /// <summary>A new connection to the test cluster (admin commands allowed, for CLUSTER, MIGRATE and SCRIPT FLUSH).</summary>
    public static ConnectionMultiplexer ConnectCluster()
    {
        SkipWithoutCluster();
        var options = PolicyEngine.Redis.RedisStoreConnection.Configure(ClusterAddress!, RedisTimeout);
        options.AllowAdmin = true;
        var connection = ConnectionMultiplexer.Connect(options);
        for (var i = 0; i < 100 && connection.GetServers().Count(s => s.IsConnected && s.ServerType == ServerType.Cluster) < 3; i++)
        {
            Thread.Sleep(50);
        }

        return connection;
    }

    /// <summary>One cluster connection shared by the tests (skips the test when no cluster is configured).</summary>
    public static ConnectionMultiplexer Cluster
    {
        get
        {
            SkipWithoutCluster();
            return SharedCluster.Value!;
        }
    }

    /// <summary>A new path for a SQLite file in a fresh temporary directory.</summary>
    public static string TempDatabasePath()
    {
        var directory = Path.Combine(Path.GetTempPath(), "pe-sqlite-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, "counters.db");
    }

    /// <summary>Deletes a database created by <see cref="TempDatabasePath"/> with its WAL files.</summary>
    public static void DeleteDatabase(string path)
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>A TCP port that was free a moment ago on the loopback interface.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the store worker (tests/PolicyEngine.Stores.Worker) with <paramref name="arguments"/>.</summary>
    public static Process StartWorker(params string[] arguments)
    {
        var path = typeof(StoreTestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "WorkerPath").Value!;
        Assert.True(File.Exists(path), "worker not built: " + path);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(path);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    /// <summary>Fails with what the worker said (and its stderr, once it has exited) when <paramref name="ok"/> is false.</summary>
    public static async Task ExpectAsync(Process worker, string? line, bool ok)
    {
        if (ok)
        {
            return;
        }

        if (!worker.HasExited)
        {
            worker.Kill();
        }

        var error = await worker.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Fail($"worker said: {line}; stderr: {error}");
    }

    /// <summary>Runs <paramref name="workers"/> workers in "hammer" mode against one limit (or one reservation of several counters) and returns how many each admitted.</summary>
    /// <param name="maxes">For several comma-separated <paramref name="key"/>s, their comma-separated maxes (then <paramref name="max"/> is unused).</param>
    public static async Task<int[]> HammerAsync(int workers, string kind, string target, string key, long max, int attempts, string? prefix = null, string? maxes = null)
    {
        var maxText = maxes ?? max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var processes = new Process[workers];
        try
        {
            for (var i = 0; i < workers; i++)
            {
                processes[i] = prefix is null
                    ? StartWorker("hammer", kind, target, key, maxText, attempts.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    : StartWorker("hammer", kind, target, key, maxText, attempts.ToString(System.Globalization.CultureInfo.InvariantCulture), prefix);
            }

            // Wait until every worker is connected, then release them together.
            foreach (var process in processes)
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                await ExpectAsync(process, line, line == "ready");
            }

            foreach (var process in processes)
            {
                await process.StandardInput.WriteLineAsync("go");
                await process.StandardInput.FlushAsync();
            }

            var admitted = new int[workers];
            for (var i = 0; i < workers; i++)
            {
                var line = await processes[i].StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
                await ExpectAsync(processes[i], line, line is not null && line.StartsWith("admitted ", StringComparison.Ordinal));
                admitted[i] = int.Parse(line!["admitted ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                await processes[i].WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            return admitted;
        }
        finally
        {
            foreach (var process in processes)
            {
                if (process is { HasExited: false })
                {
                    process.Kill(entireProcessTree: true);
                }

                process?.Dispose();
            }
        }
    }
}
