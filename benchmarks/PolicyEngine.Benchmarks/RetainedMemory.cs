using System.Collections.Concurrent;
using System.Text.Json;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// Retained memory per active identity (S4's "&lt; 150 B per active identity including its key"): 10,000 fresh
/// identities, each admitted once under a grant-scoped limit, measured with <see cref="GC.GetTotalMemory(bool)"/>
/// before and after, beside a hand-written <c>ConcurrentDictionary&lt;string, long[]&gt;</c> keyed by the same id strings.
/// The identities and their id strings exist before the first measurement (the host holds them either way), so what
/// is counted is what the engine or the baseline adds for them. Not a BenchmarkDotNet benchmark: BenchmarkDotNet
/// measures allocation per operation, not what stays reachable. Run with
/// <c>dotnet bin/Release/net10.0/PolicyEngine.Benchmarks.dll retained</c>.
/// </summary>
internal static class RetainedMemory
{
    private const int Identities = 10_000;

    public static void Run()
    {
        var identities = Enumerable.Range(0, Identities).Select(i => new PolicyIdentity("member-" + i)).ToArray();
        var ids = identities.Select(identity => identity.Id).ToArray();
        var args = JsonDocument.Parse("{}").RootElement;
        var evaluator = new PolicyEvaluator(Policy.Parse(
            """{ "version": "2", "default": "deny", "tools": { "execute_python_code": { "limits": [ { "counter": "runs", "window": "minute", "max": 10, "scope": "grant" } ] } } }"""));
        evaluator.Complete(evaluator.Evaluate(new PolicyIdentity("warm-up"), "execute_python_code", args), succeeded: true);

        var before = Settled();
        foreach (var identity in identities)
        {
            evaluator.Complete(evaluator.Evaluate(identity, "execute_python_code", args), succeeded: true);
        }

        var engine = (Settled() - before) / (double)Identities;

        var baseline = new ConcurrentDictionary<string, long[]>();
        before = Settled();
        foreach (var id in ids)
        {
            baseline.GetOrAdd(id, static _ => new long[2])[1]++;
        }

        var dictionary = (Settled() - before) / (double)Identities;
        Console.WriteLine($"retained per active identity: engine {engine:F1} B, ConcurrentDictionary<string, long[]> baseline {dictionary:F1} B");
        GC.KeepAlive(evaluator);
        GC.KeepAlive(baseline);
        GC.KeepAlive(identities);
    }

    private static long Settled()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
