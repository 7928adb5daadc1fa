namespace PolicyEngine;

/// <summary>
/// What a <see cref="ShadowPolicyEvaluator"/> decided for one call: the <see cref="Enforced"/> decision, which the host
/// applies exactly as it would apply <see cref="PolicyEvaluator.Evaluate(PolicyIdentity, string, System.Text.Json.JsonElement)"/>'s,
/// and the <see cref="Candidate"/>'s, which is never applied. Pass the value back to
/// <see cref="ShadowPolicyEvaluator.Complete(ShadowDecision, bool)"/> once the call has run.
/// </summary>
public readonly struct ShadowDecision : IEquatable<ShadowDecision>
{
    internal ShadowDecision(Decision enforced, Decision candidate)
    {
        Enforced = enforced;
        Candidate = candidate;
    }

    /// <summary>The decision to apply.</summary>
    public Decision Enforced { get; }

    /// <summary>What the candidate policy decided (the enforced decision itself when the candidate could not be asked).</summary>
    public Decision Candidate { get; }

    /// <summary>Whether the two decided different kinds of outcome.</summary>
    public bool Disagrees => Enforced.Kind != Candidate.Kind;

    /// <summary>Whether both values hold the same two decisions.</summary>
    /// <param name="other">The other value.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public bool Equals(ShadowDecision other) => Enforced.Equals(other.Enforced) && Candidate.Equals(other.Candidate);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ShadowDecision other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Enforced, Candidate);

    /// <summary>Whether two values hold the same two decisions.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public static bool operator ==(ShadowDecision left, ShadowDecision right) => left.Equals(right);

    /// <summary>Whether two values differ.</summary>
    /// <param name="left">The first value.</param>
    /// <param name="right">The second value.</param>
    /// <returns><see langword="true"/> when they differ.</returns>
    public static bool operator !=(ShadowDecision left, ShadowDecision right) => !left.Equals(right);

    /// <summary>Both decisions, for logs.</summary>
    /// <returns><c>enforced | candidate</c>.</returns>
    public override string ToString() => $"{Enforced} | candidate {Candidate}";
}
