using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;

namespace PolicyEngine.Compilation;

/// <summary>
/// One <c>require</c> or <c>deny_if</c> entry with the denial it produces, built once so that denying allocates nothing.
/// </summary>
internal sealed class CompiledCheck(CompiledPredicate predicate, bool isRequire, string pointer, Verdict denial)
{
    public CompiledPredicate Predicate { get; } = predicate;

    /// <summary><see langword="true"/> for <c>require</c> (denies when the predicate does not hold).</summary>
    public bool IsRequire { get; } = isRequire;

    public string Pointer { get; } = pointer;

    public Verdict Denial { get; } = denial;
}
