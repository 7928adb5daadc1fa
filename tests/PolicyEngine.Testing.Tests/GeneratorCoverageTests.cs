using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing.Tests;

/// <summary>The generators reach both outcomes of the predicates of generated policies.</summary>
public class GeneratorCoverageTests(ITestOutputHelper output)
{
    private (int Total, int Both, List<string> Missed) Measure(Gen<PolicyDocument> documents, int policies, ulong seed, Func<PredicateOperator, bool> counted)
    {
        var total = 0;
        var both = 0;
        var missed = new List<string>();
        var docs = Gen.Sample(documents, policies, new Rnd(seed), 30);
        for (var i = 0; i < docs.Length; i++)
        {
            foreach (var outcome in PredicateCoverage.Measure(docs[i], 1500, seed + (ulong)i))
            {
                if (!counted(Operator(outcome.Predicate)) || Unreachable(outcome.Predicate))
                {
                    continue;
                }

                total++;
                if (outcome.Held && outcome.Failed)
                {
                    both++;
                }
                else
                {
                    missed.Add($"{outcome.Predicate} at {outcome.Pointer}: held {outcome.Held}, failed {outcome.Failed}");
                }
            }
        }

        return (total, both, missed);
    }

    /// <summary>
    /// Predicates with one outcome by design, left out of the share: <c>eq null</c> and <c>in [null]</c> never hold (a
    /// present null counts as absent), and <c>identity.id</c> is always a present string, so only string comparisons
    /// of it can go both ways.
    /// </summary>
    private static bool Unreachable(string predicateJson)
    {
        var root = System.Text.Json.JsonDocument.Parse(predicateJson).RootElement;
        var value = root.GetProperty("value");
        var op = Operator(predicateJson);
        if (op is PredicateOperator.Eq or PredicateOperator.In && (value.ValueKind == System.Text.Json.JsonValueKind.Null
            || (value.ValueKind == System.Text.Json.JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == System.Text.Json.JsonValueKind.Null))))
        {
            return true;
        }

        return root.GetProperty("path").GetString() == "identity.id";
    }

    private static PredicateOperator Operator(string predicateJson)
    {
        var name = System.Text.Json.JsonDocument.Parse(predicateJson).RootElement.GetProperty("op").GetString()!;
        return Enum.GetValues<PredicateOperator>().First(op => PredicateCoverage.OperatorName(op) == name);
    }

    [Fact]
    public void V1Documents_EveryPredicate_BothOutcomesReached()
    {
        var (total, both, missed) = Measure(PolicyGen.V1Documents(), 100, 11, _ => true);
        output.WriteLine($"v1: {both}/{total} predicates reached both outcomes ({100.0 * both / Math.Max(1, total):F1}%)");
        foreach (var miss in missed)
        {
            output.WriteLine("missed: " + miss);
        }

        Assert.True(total > 200, $"only {total} predicates measured");
        Assert.Empty(missed);
    }

    [Fact]
    public void V2Documents_V1Operators_BothOutcomesReached()
    {
        var (total, both, missed) = Measure(PolicyGen.V2Documents(), 70, 23, PredicateCoverage.IsV1);
        output.WriteLine($"v2, v1 operators: {both}/{total} ({100.0 * both / Math.Max(1, total):F1}%)");
        foreach (var miss in missed)
        {
            output.WriteLine("missed: " + miss);
        }

        Assert.Empty(missed);
    }

    [Fact]
    public void V2Documents_V2Operators_CoverageMeasured()
    {
        var (total, both, missed) = Measure(PolicyGen.V2Documents(), 70, 37, op => !PredicateCoverage.IsV1(op));
        var share = 1.0 * both / Math.Max(1, total);
        output.WriteLine($"v2 operators (starts_with, ends_with, glob, path_under): {both}/{total} ({100 * share:F1}%)");
        foreach (var miss in missed)
        {
            output.WriteLine("missed: " + miss);
        }

        Assert.True(share >= 0.95, $"only {100 * share:F1}% of v2-operator predicates reached both outcomes");
    }
}
