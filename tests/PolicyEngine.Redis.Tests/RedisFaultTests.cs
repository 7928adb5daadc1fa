using System.Diagnostics;
using PolicyEngine.Redis;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Redis.Tests;

/// <summary>Stops and restarts a redis-server of the test's own (on a free port) under a live evaluator.</summary>
public sealed class RedisFaultTests
{
    private const string Policy = """
        { "version": "2", "default": "allow",
          "tools": { "t": { "limits": [ { "counter": "c", "window": "day", "max": 1000000, "scope": "grant" } ] } } }
        """;

    private static Process StartServer(int port)
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public async Task Evaluate_RedisStoppedThenRestarted_FailsClosedWithinTheTimeoutThenRecovers()
    {
        // Needs redis-server on PATH; CI installs it (and sets POLICYENGINE_REDIS, the signal that Redis tests run).
        StoreTestEnvironment.SkipWithoutRedis();
        var port = StoreTestEnvironment.FreePort();
        var server = StartServer(port);
        try
        {
            using var store = RedisCounterStore.Connect($"127.0.0.1:{port}", new RedisCounterStoreOptions { Timeout = TimeSpan.FromMilliseconds(500) });
            var evaluator = new PolicyEvaluator(
                StoreTestPolicies.Compile(Policy),
                store,
                options: new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromSeconds(1) });
            var alice = new PolicyIdentity("alice");

            await WaitUntilAsync(async () => (await evaluator.EvaluateAsync(alice, "t", StoreTestPolicies.NoArgs)).Kind == DecisionKind.Allow, "first allow");
            await WaitUntilAsync(() => Task.FromResult(evaluator.Evaluate(alice, "t", StoreTestPolicies.NoArgs).Kind == DecisionKind.Allow), "first allow (sync)");

            server.Kill();
            await server.WaitForExitAsync();

            // Down: every decision, sync and async, is "(store unavailable)", promptly, and nothing throws.
            for (var i = 0; i < 20; i++)
            {
                var watch = Stopwatch.StartNew();
                var decision = i % 2 == 0 ? await evaluator.EvaluateAsync(alice, "t", StoreTestPolicies.NoArgs) : evaluator.Evaluate(alice, "t", StoreTestPolicies.NoArgs);
                watch.Stop();
                Assert.Equal(DecisionKind.Deny, decision.Kind);
                Assert.Equal("(store unavailable)", decision.Rule);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"decision took {watch.Elapsed}");
            }

            // Many concurrent callers while down: none hangs.
            var tasks = Enumerable.Range(0, 64).Select(_ => evaluator.EvaluateAsync(alice, "t", StoreTestPolicies.NoArgs).AsTask()).ToArray();
            var all = Task.WhenAll(tasks);
            Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))));
            Assert.All(tasks, t => Assert.Equal("(store unavailable)", t.Result.Rule));

            // Back up on the same port (empty: no scripts, no counters): the same evaluator recovers by itself.
            server.Dispose();
            server = StartServer(port);
            await WaitUntilAsync(async () => (await evaluator.EvaluateAsync(alice, "t", StoreTestPolicies.NoArgs)).Kind == DecisionKind.Allow, "recovery (async)");
            await WaitUntilAsync(() => Task.FromResult(evaluator.Evaluate(alice, "t", StoreTestPolicies.NoArgs).Kind == DecisionKind.Allow), "recovery (sync)");
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill();
            }

            server.Dispose();
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "timed out waiting for " + what);
            await Task.Delay(100);
        }
    }
}
