using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S4 rate: at most 10 calls per identity per 60 s fixed window over 10,000 identities; a stream of 200,000 calls
/// (every identity once, then a skewed draw so hot identities hit the limit). Each invocation replays the stream in a
/// fresh window (the clock moves a minute), so admitted and refused calls mix as in steady traffic. Baselines: a
/// hand-written <see cref="ConcurrentDictionary{TKey, TValue}"/> fixed window, and
/// <see cref="PartitionedRateLimiter"/> with <see cref="FixedWindowRateLimiter"/> partitions.
/// </summary>
[MemoryDiagnoser]
public class RateBenchmarks
{
    private const int Identities = 10_000;
    private const int Stream = 200_000;
    private const int Max = 10;

    private readonly ManualClock _clock = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private PolicyEvaluator _evaluator = null!;
    private PolicyIdentity[] _identities = null!;
    private string[] _ids = null!;
    private int[] _stream = null!;
    private JsonElement _args;
    private ConcurrentDictionary<string, Window> _baseline = null!;
    private PartitionedRateLimiter<string> _limiter = null!;

    [GlobalSetup]
    public void Setup()
    {
        _evaluator = new PolicyEvaluator(
            Policy.Parse("""
                { "version": "2", "default": "deny", "tools": { "execute_python_code": {
                  "limits": [ { "counter": "runs", "window": "minute", "max": 10, "scope": "grant" } ] } } }
                """),
            timeProvider: _clock);
        _identities = new PolicyIdentity[Identities];
        _ids = new string[Identities];
        for (var i = 0; i < Identities; i++)
        {
            _ids[i] = "user-" + i;
            _identities[i] = new PolicyIdentity(_ids[i]);
        }

        // Every identity once, then a skewed draw: the square of a uniform number favours low indexes.
        var random = new Random(Calls.Seed);
        _stream = new int[Stream];
        for (var i = 0; i < Stream; i++)
        {
            _stream[i] = i < Identities ? i : (int)(Math.Pow(random.NextDouble(), 3) * Identities);
        }

        _args = JsonDocument.Parse("{}").RootElement;
        _baseline = new ConcurrentDictionary<string, Window>(StringComparer.Ordinal);
        _limiter = PartitionedRateLimiter.Create<string, string>(id => RateLimitPartition.GetFixedWindowLimiter(
            id,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = Max, Window = TimeSpan.FromSeconds(60), QueueLimit = 0, AutoReplenishment = true }));
    }

    [GlobalCleanup]
    public void Cleanup() => _limiter.Dispose();

    [IterationSetup]
    public void NextWindow() => _clock.Advance(TimeSpan.FromMinutes(1));

    [Benchmark(Baseline = true, OperationsPerInvoke = Stream)]
    public int ConcurrentDictionaryBaseline()
    {
        var admitted = 0;
        var window = _clock.GetUtcNow().ToUnixTimeMilliseconds() / 60_000;
        foreach (var index in _stream)
        {
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
            using var lease = _limiter.AttemptAcquire(_ids[index]);
            admitted += lease.IsAcquired ? 1 : 0;
        }

        return admitted;
    }

    private sealed class Window
    {
        public long Start = -1;
        public int Count;
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
