using System.Collections.Frozen;

namespace PolicyEngine.Compilation.Predicates;

/// <summary>
/// <c>any</c> of several <c>identity.&lt;name&gt; contains "…"</c> on one attribute (the usual role check), compiled
/// to one lookup of the identity's string set and a set-overlap test; other identities fall back to the general form.
/// </summary>
internal sealed class IdentitySetEvaluator(string name, FrozenSet<string> wanted, CompiledPredicate general) : CompiledPredicate
{
    public override bool Holds(in EvaluationContext context, ref bool ambiguous)
    {
        if (!context.Identity.StringSets.TryGetValue(name, out var have))
        {
            return general.Holds(context, ref ambiguous);
        }

        foreach (var item in have.Items)
        {
            if (wanted.Contains(item))
            {
                return true;
            }
        }

        return false;
    }

    public override bool ReadsIdentityOnly => general.ReadsIdentityOnly;

    public override string Describe() => general.Describe();

    public override string? Undecided(in EvaluationContext context) => general.Undecided(context);

    /// <summary>The fast form of the composite <paramref name="general"/>, when it is an <c>any</c> of identity set checks on one attribute.</summary>
    public static CompiledPredicate Optimize(CompositeKind kind, CompiledPredicate[] operands, CompiledPredicate general)
    {
        if (kind != CompositeKind.Any || operands.Length < 2 || operands[0] is not ComparisonEvaluator { IdentitySetName: { } name })
        {
            return general;
        }

        var wanted = new List<string>(operands.Length);
        foreach (var operand in operands)
        {
            if (operand is not ComparisonEvaluator { IdentitySetName: { } other } comparison || other != name)
            {
                return general;
            }

            wanted.Add(comparison.Text!);
        }

        return new IdentitySetEvaluator(name, wanted.ToFrozenSet(StringComparer.Ordinal), general);
    }
}
