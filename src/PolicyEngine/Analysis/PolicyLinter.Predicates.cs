using System.Text;
using System.Text.Json;

namespace PolicyEngine;

// The linter, predicates: always-true, never-true and contradicting require / deny_if / approval predicates.
public static partial class PolicyLinter
{
    private enum Truth
    {
        Unknown,
        Always,
        Never,
    }

    /// <summary>What an entry's predicates prove about its calls.</summary>
    /// <param name="AlwaysDeniedBy">Why every call of the entry is denied, or <see langword="null"/>.</param>
    private readonly record struct EntryVerdict(string? AlwaysDeniedBy);

    /// <summary>A comparison that must hold for a call to pass, with its pointer.</summary>
    private readonly record struct Conjunct(ComparisonPredicate Predicate, string Pointer);

    private static EntryVerdict LintEntry(ToolPolicy entry, string pointer, ToolPolicy? allTools, List<LintFinding> findings)
    {
        string? deniedBy = entry.DeclaredAction == ToolAction.Deny ? pointer + "/action" : null;

        // require: each predicate alone, then every pair of the comparisons that must all hold.
        var conjuncts = new List<Conjunct>();
        var require = entry.Require ?? [];
        var neverPointers = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < require.Count; i++)
        {
            var at = $"{pointer}/require/{i}";
            switch (TruthOf(require[i], out var why))
            {
                case Truth.Never:
                    findings.Add(new LintFinding(at, LintSeverity.Error, LintCodes.RequireNeverHolds,
                        $"this predicate can never hold ({why}): every call is denied; use \"action\": \"deny\" if that is the intent"));
                    deniedBy ??= at;
                    neverPointers.Add(at);
                    break;
                case Truth.Always:
                    findings.Add(new LintFinding(at, LintSeverity.Warning, LintCodes.RequireAlwaysHolds,
                        $"this predicate holds for every call ({why}): it never denies anything; remove it or fix it"));
                    break;
            }

            Flatten(require[i], at, conjuncts);
        }

        for (var b = 0; b < conjuncts.Count; b++)
        {
            for (var a = 0; a < b; a++)
            {
                if (neverPointers.Any(p => conjuncts[b].Pointer.StartsWith(p, StringComparison.Ordinal) && conjuncts[a].Pointer.StartsWith(p, StringComparison.Ordinal)))
                {
                    continue;
                }

                if (Contradiction(conjuncts[a].Predicate, conjuncts[b].Predicate) is { } why)
                {
                    findings.Add(new LintFinding(conjuncts[b].Pointer, LintSeverity.Error, LintCodes.RequireNeverHolds,
                        $"contradicts {conjuncts[a].Pointer}: {why}, so every call is denied; use \"action\": \"deny\" if that is the intent"));
                    deniedBy ??= conjuncts[b].Pointer;
                    break;
                }
            }
        }

        // deny_if: each predicate alone, and whether every call that passes require (the entry's and all_tools') meets it.
        var passing = new List<Conjunct>(conjuncts);
        if (allTools?.Require is { } shared)
        {
            for (var i = 0; i < shared.Count; i++)
            {
                Flatten(shared[i], $"/all_tools/require/{i}", passing);
            }
        }

        var denyIf = entry.DenyIf ?? [];
        for (var i = 0; i < denyIf.Count; i++)
        {
            var at = $"{pointer}/deny_if/{i}";
            switch (TruthOf(denyIf[i], out var why))
            {
                case Truth.Always:
                    findings.Add(new LintFinding(at, LintSeverity.Warning, LintCodes.DenyIfAlwaysHolds,
                        $"this predicate holds for every call ({why}): every call is denied; use \"action\": \"deny\" to say so"));
                    deniedBy ??= at;
                    break;
                case Truth.Never:
                    findings.Add(new LintFinding(at, LintSeverity.Warning, LintCodes.DenyIfNeverHolds,
                        $"this predicate can never hold ({why}): it never denies anything; remove it or fix it"));
                    break;
                default:
                    if (ImpliedBy(passing, denyIf[i]) is { } source)
                    {
                        findings.Add(new LintFinding(at, LintSeverity.Warning, LintCodes.DenyIfAlwaysHolds,
                            $"this predicate holds for every call that passes {source}: every call is denied"));
                        deniedBy ??= at;
                    }

                    break;
            }
        }

        if (entry.Approval?.When is { } when)
        {
            for (var i = 0; i < when.Count; i++)
            {
                if (TruthOf(when[i], out var why) == Truth.Never)
                {
                    findings.Add(new LintFinding($"{pointer}/approval/when/{i}", LintSeverity.Warning, LintCodes.ApprovalNeverAsked,
                        $"this condition can never hold ({why}): nobody is ever asked for approval"));
                }
            }
        }

        return new EntryVerdict(deniedBy);
    }

    /// <summary>Adds the comparisons that must all hold for <paramref name="predicate"/> to hold (through nested <c>all</c>).</summary>
    private static void Flatten(PolicyPredicate predicate, string pointer, List<Conjunct> into)
    {
        switch (predicate)
        {
            case ComparisonPredicate comparison:
                into.Add(new Conjunct(comparison, pointer));
                break;
            case CompositePredicate { Kind: CompositeKind.All } all:
                for (var i = 0; i < all.Operands.Count; i++)
                {
                    Flatten(all.Operands[i], $"{pointer}/all/{i}", into);
                }

                break;
        }
    }

    private static Truth TruthOf(PolicyPredicate predicate, out string why)
    {
        why = string.Empty;
        switch (predicate)
        {
            case ComparisonPredicate comparison:
                return TruthOf(comparison, out why);
            case CompositePredicate { Kind: CompositeKind.Not } not:
                var inner = TruthOf(not.Operands[0], out why);
                return inner switch { Truth.Always => Truth.Never, Truth.Never => Truth.Always, _ => Truth.Unknown };
            case CompositePredicate { Kind: CompositeKind.Any } any:
                var never = 0;
                foreach (var operand in any.Operands)
                {
                    var truth = TruthOf(operand, out var operandWhy);
                    if (truth == Truth.Always)
                    {
                        why = "one of its \"any\" operands always holds: " + operandWhy;
                        return Truth.Always;
                    }

                    never += truth == Truth.Never ? 1 : 0;
                }

                why = "none of its \"any\" operands can hold";
                return never == any.Operands.Count ? Truth.Never : Truth.Unknown;
            case CompositePredicate all:
                var always = 0;
                foreach (var operand in all.Operands)
                {
                    var truth = TruthOf(operand, out var operandWhy);
                    if (truth == Truth.Never)
                    {
                        why = "one of its \"all\" operands never holds: " + operandWhy;
                        return Truth.Never;
                    }

                    always += truth == Truth.Always ? 1 : 0;
                }

                var conjuncts = new List<Conjunct>();
                Flatten(all, string.Empty, conjuncts);
                for (var b = 0; b < conjuncts.Count; b++)
                {
                    for (var a = 0; a < b; a++)
                    {
                        if (Contradiction(conjuncts[a].Predicate, conjuncts[b].Predicate) is { } contradiction)
                        {
                            why = "its \"all\" operands contradict each other: " + contradiction;
                            return Truth.Never;
                        }
                    }
                }

                why = "every \"all\" operand always holds";
                return always == all.Operands.Count ? Truth.Always : Truth.Unknown;
            default:
                return Truth.Unknown;
        }
    }

    private static Truth TruthOf(ComparisonPredicate p, out string why)
    {
        why = string.Empty;
        if (p.Path == "identity.id" && p.Operator == PredicateOperator.Exists)
        {
            // Every identity has an id (a string, never null).
            var wantsPresent = p.Value.ValueKind == JsonValueKind.True;
            why = "every caller has an identity.id";
            return wantsPresent ? Truth.Always : Truth.Never;
        }

        if (Allowed(p) is { } allowed)
        {
            if (allowed.Count == 0)
            {
                why = $"{p.Path} in [] matches nothing";
                return Truth.Never;
            }

            // eq null, in [null]: a present null counts as absent, so nothing equals it.
            if (allowed.All(v => Holds(p, v) == false))
            {
                why = $"no value can satisfy {Describe(p)}";
                return Truth.Never;
            }
        }

        return Truth.Unknown;
    }
}
