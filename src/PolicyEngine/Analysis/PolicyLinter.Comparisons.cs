using System.Text;
using System.Text.Json;
using PolicyEngine.Json;
using PolicyEngine.Json.Numbers;

namespace PolicyEngine;

// The linter, comparisons against each other: contradictions, implications and tighter bounds.
public static partial class PolicyLinter
{
    /// <summary>Why two comparisons that must both hold cannot, or <see langword="null"/> when they may.</summary>
    private static string? Contradiction(ComparisonPredicate a, ComparisonPredicate b)
    {
        if (!string.Equals(a.Path, b.Path, StringComparison.Ordinal))
        {
            return null;
        }

        if (IsAbsentCheck(a) != IsAbsentCheck(b))
        {
            return $"{a.Path} cannot be absent ({Describe(IsAbsentCheck(a) ? a : b)}) and present ({Describe(IsAbsentCheck(a) ? b : a)})";
        }

        foreach (var (x, y) in new[] { (a, b), (b, a) })
        {
            if (Allowed(x) is { Count: > 0 } values && values.All(v => Holds(y, v) == false))
            {
                return $"no value {Describe(x)} allows satisfies {Describe(y)}";
            }
        }

        if ((IsNumeric(a) && IsStringOp(b)) || (IsStringOp(a) && IsNumeric(b)))
        {
            return $"{a.Path} cannot be a number ({Describe(IsNumeric(a) ? a : b)}) and a string ({Describe(IsNumeric(a) ? b : a)})";
        }

        if (IsNumeric(a) && IsNumeric(b) && IsLower(a) != IsLower(b))
        {
            var (lower, upper) = IsLower(a) ? (a, b) : (b, a);
            var order = ExactNumber.Compare(Raw(lower.Value), Raw(upper.Value));
            var strict = lower.Operator == PredicateOperator.Gt || upper.Operator == PredicateOperator.Lt;
            if (order > 0 || (order == 0 && strict))
            {
                return $"no number satisfies both {Describe(lower)} and {Describe(upper)}";
            }
        }

        if (a.Operator == b.Operator && a.Operator is PredicateOperator.StartsWith or PredicateOperator.EndsWith
            && a.Value.GetString() is { } s && b.Value.GetString() is { } t)
        {
            var compatible = a.Operator == PredicateOperator.StartsWith
                ? s.StartsWith(t, StringComparison.Ordinal) || t.StartsWith(s, StringComparison.Ordinal)
                : s.EndsWith(t, StringComparison.Ordinal) || t.EndsWith(s, StringComparison.Ordinal);
            if (!compatible)
            {
                return $"no string satisfies both {Describe(a)} and {Describe(b)}";
            }
        }

        return null;
    }

    /// <summary>Which passing predicate makes <paramref name="denial"/> hold for every call that passes, or <see langword="null"/>.</summary>
    private static string? ImpliedBy(List<Conjunct> passing, PolicyPredicate denial)
    {
        switch (denial)
        {
            case CompositePredicate { Kind: CompositeKind.Any } any:
                foreach (var operand in any.Operands)
                {
                    if (ImpliedBy(passing, operand) is { } source)
                    {
                        return source;
                    }
                }

                return null;
            case CompositePredicate { Kind: CompositeKind.All } all:
                string? first = null;
                foreach (var operand in all.Operands)
                {
                    if (ImpliedBy(passing, operand) is not { } source)
                    {
                        return null;
                    }

                    first ??= source;
                }

                return first;
        }

        if (denial is not ComparisonPredicate denied)
        {
            return null;
        }

        string? lowerSource = null, upperSource = null;
        ComparisonPredicate? lower = null, upper = null;
        foreach (var (r, pointer) in passing)
        {
            if (!string.Equals(r.Path, denied.Path, StringComparison.Ordinal))
            {
                continue;
            }

            if (r.Operator == denied.Operator && JsonValueComparer.DeepEquals(r.Value, denied.Value))
            {
                return pointer;
            }

            if (denied.Operator == PredicateOperator.Exists && denied.Value.ValueKind == JsonValueKind.True && !IsAbsentCheck(r))
            {
                return pointer;
            }

            if (Allowed(r) is { Count: > 0 } values && values.All(v => Holds(denied, v) == true))
            {
                return pointer;
            }

            if (IsNumeric(r))
            {
                if (IsLower(r) && (lower is null || Tighter(r, lower, lowerBound: true)))
                {
                    (lower, lowerSource) = (r, pointer);
                }
                else if (!IsLower(r) && (upper is null || Tighter(r, upper, lowerBound: false)))
                {
                    (upper, upperSource) = (r, pointer);
                }
            }
        }

        if (IsNumeric(denied))
        {
            // The passing calls' numbers lie within [lower, upper]; the denial holds for all of them when its bound contains that side.
            var bound = IsLower(denied) ? lower : upper;
            if (bound is not null && (IsLower(denied) ? !Tighter(denied, bound, lowerBound: true) : !Tighter(denied, bound, lowerBound: false)))
            {
                return IsLower(denied) ? lowerSource : upperSource;
            }
        }

        return null;
    }

    /// <summary>Whether bound <paramref name="x"/> admits strictly fewer numbers than <paramref name="y"/> on the same side.</summary>
    private static bool Tighter(ComparisonPredicate x, ComparisonPredicate y, bool lowerBound)
    {
        var order = ExactNumber.Compare(Raw(x.Value), Raw(y.Value));
        var xStrict = x.Operator is PredicateOperator.Gt or PredicateOperator.Lt;
        var yStrict = y.Operator is PredicateOperator.Gt or PredicateOperator.Lt;
        return lowerBound
            ? order > 0 || (order == 0 && xStrict && !yStrict)
            : order < 0 || (order == 0 && xStrict && !yStrict);
    }
}
