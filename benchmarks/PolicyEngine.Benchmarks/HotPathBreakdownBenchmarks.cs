using System.Text.Json;
using BenchmarkDotNet.Attributes;
using PolicyEngine.Compilation.Predicates;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// The pieces of one S3 decision, measured alone (internals): resolving <c>identity.roles</c>, one
/// <c>contains</c> predicate, the <c>any</c> of three, the tool lookup, and the whole evaluation. Each method
/// runs 4,096 times per invocation over the same callers as <see cref="IdentityBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class HotPathBreakdownBenchmarks
{
    private const string PolicyText = """
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "read_file": {
              "require": [
                {
                  "any": [
                    { "path": "identity.roles", "op": "contains", "value": "admin" },
                    { "path": "identity.roles", "op": "contains", "value": "dev" },
                    { "path": "identity.roles", "op": "contains", "value": "viewer" }
                  ]
                }
              ]
            }
          }
        }
        """;

    private Policy _policy = null!;
    private PolicyEvaluator _evaluator = null!;
    private CompiledPath _path = null!;
    private ComparisonEvaluator _contains = null!;
    private CompiledPredicate _any = null!;
    private PolicyIdentity[] _identities = null!;
    private string _tool = null!;

    [GlobalSetup]
    public void Setup()
    {
        var document = PolicyDocument.Parse(PolicyText);
        _policy = Policy.Compile(document);
        _evaluator = new PolicyEvaluator(_policy);
        var composite = (CompositePredicate)document.Tools[0].Require![0];
        _contains = new ComparisonEvaluator((ComparisonPredicate)composite.Operands[2]);
        _path = _contains.Path;
        _any = _policy.Find("read_file")!.Checks[0].Predicate;
        string[] roles = ["admin", "dev", "viewer"];
        var random = new Random(Calls.Seed);
        _identities = new PolicyIdentity[Calls.PerInvoke];
        for (var i = 0; i < _identities.Length; i++)
        {
            _identities[i] = PolicyIdentity.WithRoles($"user-{i % 1000}", roles[random.Next(3)]);
        }

        _tool = Calls.Fresh("read_file");
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int ResolveIdentityRoles()
    {
        var sum = 0;
        foreach (var identity in _identities)
        {
            var context = new EvaluationContext(default, null, identity);
            sum += (int)_path.Resolve(context, out _);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int OneContains()
    {
        var sum = 0;
        var ambiguous = false;
        foreach (var identity in _identities)
        {
            var context = new EvaluationContext(default, null, identity);
            sum += _contains.Holds(context, ref ambiguous) ? 1 : 0;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int AnyOfThreeContains()
    {
        var sum = 0;
        var ambiguous = false;
        foreach (var identity in _identities)
        {
            var context = new EvaluationContext(default, null, identity);
            sum += _any.Holds(context, ref ambiguous) ? 1 : 0;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int FindAndIsHidden()
    {
        var sum = 0;
        for (var i = 0; i < _identities.Length; i++)
        {
            sum += _policy.IsHidden(_tool) ? 0 : 1;
            sum += _policy.Find(_tool) is null ? 0 : 1;
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls.PerInvoke)]
    public int Evaluate()
    {
        var sum = 0;
        foreach (var identity in _identities)
        {
            sum += (int)_evaluator.Evaluate(identity, _tool, default(JsonElement)).Kind;
        }

        return sum;
    }
}
