using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using PolicyEngine.Documents;

namespace PolicyEngine.Testing.Tests;

/// <summary>
/// Measures, for every comparison predicate of a policy (nested ones included), whether generated calls reach both
/// of its outcomes. Each predicate is evaluated alone, by the real evaluator, as the single <c>deny_if</c> of a probe
/// policy, on the arguments and identity of every generated call of a tool its entry applies to.
/// </summary>
internal static class PredicateCoverage
{
    public sealed record Outcome(string Pointer, string Predicate, bool Held, bool Failed);

    public static List<Outcome> Measure(PolicyDocument document, int calls, ulong seed)
    {
        var targets = PolicyTargets.Of([document]);
        var sample = Gen.Sample(PolicyGen.Calls(document), calls, new Rnd(seed), 30);
        var outcomes = new List<Outcome>();
        foreach (var site in targets.Comparisons)
        {
            var predicate = Json(site.Predicate);
            var probe = new PolicyEvaluator(Policy.Parse("{\"version\":\"2\",\"default\":\"allow\",\"tools\":{\"probe\":{\"deny_if\":[" + predicate + "]}}}"));
            bool held = false, failed = false;
            foreach (var call in sample)
            {
                if (site.Entry is not null && !JsonText.GlobMatch(site.Entry, call.Tool))
                {
                    continue;
                }

                var decision = probe.Evaluate(call.Identity, "probe", call.Args);
                held |= decision.Kind == DecisionKind.Deny;
                failed |= decision.Kind == DecisionKind.Allow;
            }

            outcomes.Add(new Outcome(site.Pointer, predicate, held, failed));
        }

        return outcomes;
    }

    public static string Json(ComparisonPredicate predicate) =>
        $$"""{"path":{{JsonText.Quote(predicate.Path)}},"op":"{{OperatorName(predicate.Operator)}}","value":{{predicate.Value.GetRawText()}}}""";

    public static string OperatorName(PredicateOperator op) => Operators.Name(op);

    public static bool IsV1(PredicateOperator op) => !Operators.Of(op).V2;
}
