namespace PolicyEngine.Compilation.Predicates;

/// <summary>A predicate compiled once: operands parsed, paths split, regexes built, strings encoded.</summary>
internal abstract class CompiledPredicate
{
    /// <summary>
    /// Whether the predicate holds for the call. An ambiguous argument (a duplicated key on the path) sets
    /// <paramref name="ambiguous"/>; the evaluator then denies whatever the result.
    /// </summary>
    public abstract bool Holds(in EvaluationContext context, ref bool ambiguous);

    /// <summary>
    /// Whether every path the predicate reads starts with <c>identity.</c>: its result then depends on the caller alone
    /// (identities are immutable), so the evaluator may remember it per identity.
    /// </summary>
    public abstract bool ReadsIdentityOnly { get; }

    /// <summary>
    /// Why the predicate could not be decided for the call (the reason given when <see cref="Holds"/> set
    /// <c>ambiguous</c>), or <see langword="null"/>. Only called on that rare path, so it may resolve paths again.
    /// </summary>
    public virtual string? Undecided(in EvaluationContext context) => null;

    /// <summary>A short human description, used in generated reasons and by <c>explain</c>.</summary>
    public abstract string Describe();
}
