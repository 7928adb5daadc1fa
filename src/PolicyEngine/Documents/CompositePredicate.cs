namespace PolicyEngine;

/// <summary><c>{ "all": [...] }</c>, <c>{ "any": [...] }</c> or <c>{ "not": P }</c> (version 2).</summary>
public sealed class CompositePredicate : PolicyPredicate
{
    internal CompositePredicate(CompositeKind kind, IReadOnlyList<PolicyPredicate> operands, string? onDeny)
        : base(onDeny)
    {
        Kind = kind;
        Operands = operands;
    }

    /// <summary>Whether every operand, any operand, or not the single operand must hold.</summary>
    public CompositeKind Kind { get; }

    /// <summary>The operands (exactly one for <see cref="CompositeKind.Not"/>).</summary>
    public IReadOnlyList<PolicyPredicate> Operands { get; }
}
