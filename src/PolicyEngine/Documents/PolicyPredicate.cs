namespace PolicyEngine;

/// <summary>
/// A condition over a call's arguments (<c>args.…</c>) or the caller's identity (<c>identity.…</c>, version 2):
/// either a <see cref="ComparisonPredicate"/> or a <see cref="CompositePredicate"/>.
/// </summary>
public abstract class PolicyPredicate
{
    private protected PolicyPredicate(string? onDeny) => OnDeny = onDeny;

    /// <summary>The reason given to the agent when this predicate denies the call; <see langword="null"/> for a generated one.</summary>
    public string? OnDeny { get; }
}
