using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing;

/// <summary>
/// A semantic diff of two policies: calls generated at both (their tools, boundaries, identities, and one call repeated
/// past every limit), evaluated by each, and the calls whose decision changes, grouped by tool and transition.
/// </summary>
public sealed class PolicyDiff
{
    private PolicyDiff(int calls, IReadOnlyList<PolicyDecisionChange> changes)
    {
        CallsCompared = calls;
        Changes = changes;
    }

    /// <summary>How many generated calls or bursts were compared.</summary>
    public int CallsCompared { get; }

    /// <summary>The decision changes, grouped by tool (ordinal), then transition; empty when the policies decide alike.</summary>
    public IReadOnlyList<PolicyDecisionChange> Changes { get; }

    /// <summary><see langword="true"/> when no compared call changed its decision (its kind; also its rule when rules are compared).</summary>
    public bool Identical => Changes.Count == 0;

    /// <summary>Compares two policies.</summary>
    /// <param name="oldPolicy">The policy in force.</param>
    /// <param name="newPolicy">The proposed change.</param>
    /// <param name="calls">How many calls or bursts to generate (default 3000).</param>
    /// <param name="seed">The generator seed (fixed by default, so the same pair always gives the same report).</param>
    /// <param name="compareRules"><see langword="true"/> to report a change of deciding rule even when the decision kind is the same (default: kinds only).</param>
    /// <returns>The diff.</returns>
    public static PolicyDiff Compare(PolicyDocument oldPolicy, PolicyDocument newPolicy, int calls = 3000, ulong seed = 1, bool compareRules = false)
    {
        ArgumentNullException.ThrowIfNull(oldPolicy);
        ArgumentNullException.ThrowIfNull(newPolicy);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calls);
        var a = Policy.Compile(oldPolicy);
        var b = Policy.Compile(newPolicy);
        var targets = PolicyGen.Targets([oldPolicy, newPolicy]);

        // Every tool name once with no arguments, then the generated calls and bursts.
        var scenarios = targets.ToolNames.Select(name => new[] { new PolicyCall(new PolicyIdentity(PolicyTargets.DefaultIds[0]), name, JsonText.EmptyObject) })
            .Concat(Gen.Sample(PolicyInvariants.ComparisonScenarios(targets), calls, new Rnd(seed), 30));
        var groups = new Dictionary<(string, bool, DecisionKind, string?, DecisionKind, string?), PolicyDecisionChange>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var compared = 0;
        foreach (var scenario in scenarios)
        {
            compared++;
            var left = Scenario.Run(a, scenario);
            var right = Scenario.Run(b, scenario);
            for (var i = 0; i < scenario.Length; i++)
            {
                var (o, n) = (left[i], right[i]);
                if (o.Kind == n.Kind && (!compareRules || o.Rule == n.Rule))
                {
                    continue;
                }

                var repeated = scenario.Length > 1;
                if (repeated && i == 0)
                {
                    repeated = false;
                }

                var call = scenario[i].WithTime(repeated ? scenario[i].At : null);
                if (!seen.Add((repeated ? "r" : "s") + call))
                {
                    break;
                }

                var key = (call.Tool, repeated, o.Kind, o.Rule, n.Kind, n.Rule);
                if (!groups.TryGetValue(key, out var change))
                {
                    groups[key] = change = new PolicyDecisionChange(call.Tool, repeated, o.Kind, o.Rule, n.Kind, n.Rule) { Repetition = i + 1 };
                }

                change.Count++;
                change.ExampleList.Add(call);
                change.ExampleList.Sort((x, y) => x.ToString().Length.CompareTo(y.ToString().Length));
                if (change.ExampleList.Count > 3)
                {
                    change.ExampleList.RemoveAt(3);
                }

                break;
            }
        }

        var changes = groups.Values
            .OrderBy(c => c.Tool, StringComparer.Ordinal)
            .ThenBy(c => c.Repeated)
            .ThenBy(c => c.ToString(), StringComparer.Ordinal)
            .ToList();
        return new PolicyDiff(compared, changes);
    }
}
