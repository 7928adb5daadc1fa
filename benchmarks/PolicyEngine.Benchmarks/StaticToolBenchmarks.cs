using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S1 static: allow or deny by tool name alone. N tools under default deny; the first 80% listed as <c>{}</c>
/// (allowed), the rest <c>"action": "deny"</c>; calls drawn from 1.2 × N names, so one in six is unlisted
/// (default deny). Baseline: the same table as a <see cref="FrozenDictionary{TKey, TValue}"/>.
/// Targets: ≤ 2× baseline, 0 bytes per decision, N = 10,000 within 1.5× of N = 50.
/// <see cref="EngineWithCatchAll"/> is the same policy as hosts often write it: a lone <c>"*"</c> entry that denies
/// with the default's reason instead of relying on <c>default</c>; it must cost what <see cref="Engine"/> costs.
/// </summary>
[MemoryDiagnoser]
public class StaticToolBenchmarks
{
    private PolicyEvaluator _evaluator = null!;
    private PolicyEvaluator _catchAll = null!;
    private PolicyIdentity _identity = null!;
    private FrozenDictionary<string, DecisionKind> _baseline = null!;
    private string[] _tools = null!;

    [Params(50, 10_000)]
    public int Tools { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var allowed = Tools * 4 / 5;
        var json = new StringBuilder();
        json.Append("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{");
        var table = new Dictionary<string, DecisionKind>(StringComparer.Ordinal);
        for (var i = 0; i < Tools; i++)
        {
            var name = Name(i);
            json.Append(i == 0 ? "" : ",").Append('"').Append(name).Append("\":");
            if (i < allowed)
            {
                json.Append("{}");
                table[name] = DecisionKind.Allow;
            }
            else
            {
                json.Append("{\"action\":\"deny\",\"on_deny\":\"").Append(name).Append(" is disabled\"}");
                table[name] = DecisionKind.Deny;
            }
        }

        json.Append("}}");
        _evaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(json.ToString())));
        json.Length -= 2;
        json.Append(",\"*\":{\"action\":\"deny\",\"on_deny\":\"this tool is not available to agents\"}}}");
        _catchAll = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(json.ToString())));
        _baseline = table.ToFrozenDictionary(StringComparer.Ordinal);
        _identity = new PolicyIdentity("agent-1");

        var names = Tools * 6 / 5;
        var random = new Random(Calls.Seed);
        _tools = new string[Calls.PerInvoke];
        for (var i = 0; i < _tools.Length; i++)
        {
            _tools[i] = Calls.Fresh(Name(random.Next(names)));
        }

        var engine = Engine();
        var baseline = Baseline();
        var catchAll = EngineWithCatchAll();
        if (engine != baseline || catchAll != baseline)
        {
            throw new InvalidOperationException($"engine, catch-all and baseline disagree: {engine}, {catchAll} vs {baseline}");
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls.PerInvoke)]
    public int Baseline()
    {
        var table = _baseline;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            var kind = table.TryGetValue(tools[i], out var listed) ? listed : DecisionKind.Deny;
            sum += (int)kind;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int Engine()
    {
        var evaluator = _evaluator;
        var identity = _identity;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            sum += (int)evaluator.Evaluate(identity, tools[i], default(JsonElement)).Kind;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int EngineWithCatchAll()
    {
        var evaluator = _catchAll;
        var identity = _identity;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            sum += (int)evaluator.Evaluate(identity, tools[i], default(JsonElement)).Kind;
        }

        return sum;
    }

    private string Name(int i) => Tools <= 100
        ? "tool_" + i.ToString("D2", CultureInfo.InvariantCulture)
        : "tool_" + i.ToString("D5", CultureInfo.InvariantCulture);
}
