using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S4 rate, measured the way a host calls it: at most 10 calls per identity per 60 s fixed window over 10,000
/// identities; a stream of 200,000 calls (every identity once, then a skewed draw, <c>u⁴</c>, so hot identities hit
/// the limit: about 59 % of the stream is rate-limited). Every contestant reads the real clock on every call
/// (<see cref="TimeProvider.System"/>; <see cref="PartitionedRateLimiter"/> reads its own stopwatch), the engine's
/// host calls <see cref="PolicyEvaluator.Complete(Decision, bool)"/> after each allowed call, and each replay starts
/// from empty state (a fresh evaluator and store, a fresh dictionary, a fresh limiter) while the host keeps its
/// <see cref="PolicyIdentity"/> objects, as a long-running host keeps its callers. Baselines: a hand-written
/// <see cref="ConcurrentDictionary{TKey, TValue}"/> fixed window, and <see cref="PartitionedRateLimiter"/> with
/// <see cref="FixedWindowRateLimiter"/> partitions.
/// <para><see cref="Warm"/> keeps every contestant's state across replays instead: counters exist and the hot
/// identities stay limited (the steady state of a busy host; about nine calls in ten are refused). Cold replays
/// include creating 10,000 counters, which is what their allocation column shows; warm replays allocate nothing.</para>
/// </summary>
[MemoryDiagnoser]
public class RateBenchmarks
{
    private const int Identities = 10_000;
    private const int Stream = 200_000;
    private const int Max = 10;

    private static readonly Policy Seed = Policy.Parse("""
        { "version": "2", "default": "deny", "tools": { "execute_python_code": {
          "limits": [ { "counter": "runs", "window": "minute", "max": 10, "scope": "grant" } ] } } }
        """);

    private readonly TimeProvider _clock = TimeProvider.System;
    private PolicyEvaluator _evaluator = null!;
    private PolicyIdentity[] _identities = null!;
    private string[] _ids = null!;
    private int[] _stream = null!;
    private JsonElement _args;
    private ConcurrentDictionary<string, Window> _baseline = null!;
    private PartitionedRateLimiter<string>? _limiter;

    /// <summary>Whether state is kept across replays (steady state) rather than started empty for each one.</summary>
    [Params(false, true)]
    public bool Warm { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _identities = new PolicyIdentity[Identities];
        _ids = new string[Identities];
        for (var i = 0; i < Identities; i++)
        {
            _ids[i] = "user-" + i;
            _identities[i] = new PolicyIdentity(_ids[i]);
        }

        // Every identity once, then a skewed draw: a uniform number to the fourth power favours low indexes.
        var random = new Random(Calls.Seed);
        _stream = new int[Stream];
        for (var i = 0; i < Stream; i++)
        {
            _stream[i] = i < Identities ? i : (int)(Math.Pow(random.NextDouble(), 4) * Identities);
        }

        _args = JsonDocument.Parse("{}").RootElement;

        // The three must agree on a replay from empty state (a window boundary inside a replay could split it; retry).
        for (var attempt = 0; ; attempt++)
        {
            Reset();
            var engine = Engine();
            var baseline = ConcurrentDictionaryBaseline();
            var limiter = PartitionedRateLimiterFixedWindow();
            if (engine == baseline && baseline == limiter)
            {
                Console.WriteLine($"// S4: {engine} of {Stream} calls admitted ({100.0 * (Stream - engine) / Stream:0.0} % rate-limited)");
                break;
            }

            if (attempt == 2)
            {
                throw new InvalidOperationException($"engine, baseline and limiter disagree: {engine}, {baseline}, {limiter}");
            }
        }
    }

    [IterationSetup]
    public void Fresh()
    {
        if (!Warm)
        {
            Reset();
        }
    }

    private void Reset()
    {
        _evaluator = new PolicyEvaluator(Seed, timeProvider: _clock);
        _baseline = new ConcurrentDictionary<string, Window>(StringComparer.Ordinal);
        _limiter?.Dispose();
        _limiter = PartitionedRateLimiter.Create<string, string>(id => RateLimitPartition.GetFixedWindowLimiter(
            id,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = Max, Window = TimeSpan.FromSeconds(60), QueueLimit = 0, AutoReplenishment = true }));
    }

    [GlobalCleanup]
    public void Cleanup() => _limiter?.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Stream)]
    public int ConcurrentDictionaryBaseline()
    {
        var admitted = 0;
        foreach (var index in _stream)
        {
            var window = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 60_000;
            var cell = _baseline.GetOrAdd(_ids[index], static _ => new Window());
            lock (cell)
            {
                if (cell.Start != window)
                {
                    cell.Start = window;
                    cell.Count = 0;
                }

                if (cell.Count < Max)
                {
                    cell.Count++;
                    admitted++;
                }
            }
        }

        return admitted;
    }

    [Benchmark(OperationsPerInvoke = Stream)]
    public int Engine()
    {
        var admitted = 0;
        foreach (var index in _stream)
        {
            var decision = _evaluator.Evaluate(_identities[index], "execute_python_code", _args);
            if (decision.IsAllowed)
            {
                admitted++;
                _evaluator.Complete(decision, succeeded: true);
            }
        }

        return admitted;
    }

    [Benchmark(OperationsPerInvoke = Stream)]
    public int PartitionedRateLimiterFixedWindow()
    {
        var admitted = 0;
        foreach (var index in _stream)
        {
            using var lease = _limiter!.AttemptAcquire(_ids[index]);
            admitted += lease.IsAcquired ? 1 : 0;
        }

        return admitted;
    }

    private sealed class Window
    {
        public long Start = -1;
        public int Count;
    }
}
