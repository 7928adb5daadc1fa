using PolicyEngine.Compilation.Predicates;

namespace PolicyEngine.Compilation;

/// <summary>An <c>approval</c> rule: when every <see cref="When"/> predicate holds, the call needs approval.</summary>
internal sealed class CompiledApproval(CompiledPredicate[] when, string reason, TimeSpan timeToLive, string pointer)
{
    public CompiledPredicate[] When { get; } = when;

    public string Reason { get; } = reason;

    public TimeSpan TimeToLive { get; } = timeToLive;

    public string Pointer { get; } = pointer;
}
