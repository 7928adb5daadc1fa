namespace PolicyEngine.Compilation.Predicates;

/// <summary><c>all</c>, <c>any</c> and <c>not</c>.</summary>
internal sealed class CompositeEvaluator(CompositeKind kind, CompiledPredicate[] operands) : CompiledPredicate
{
    public override bool ReadsIdentityOnly { get; } = Array.TrueForAll(operands, operand => operand.ReadsIdentityOnly);

    public override bool Holds(in EvaluationContext context, ref bool ambiguous)
    {
        switch (kind)
        {
            case CompositeKind.All:
                foreach (var operand in operands)
                {
                    if (!operand.Holds(context, ref ambiguous))
                    {
                        return false;
                    }
                }

                return true;
            case CompositeKind.Any:
                foreach (var operand in operands)
                {
                    if (operand.Holds(context, ref ambiguous))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return !operands[0].Holds(context, ref ambiguous);
        }
    }

    public override string? Undecided(in EvaluationContext context)
    {
        foreach (var operand in operands)
        {
            if (operand.Undecided(context) is { } why)
            {
                return why;
            }
        }

        return null;
    }

    public override string Describe()
    {
        var parts = new string[operands.Length];
        for (var i = 0; i < operands.Length; i++)
        {
            parts[i] = operands[i].Describe();
        }

        return kind switch
        {
            CompositeKind.All => "all of (" + string.Join("; ", parts) + ")",
            CompositeKind.Any => "any of (" + string.Join("; ", parts) + ")",
            _ => "not (" + parts[0] + ")",
        };
    }
}
