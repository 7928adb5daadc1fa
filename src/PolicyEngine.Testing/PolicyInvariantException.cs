namespace PolicyEngine.Testing;

/// <summary>A policy invariant does not hold; the message names the invariant and a minimal counterexample.</summary>
public sealed class PolicyInvariantException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="result">The failed check.</param>
    public PolicyInvariantException(PolicyCheckResult result)
        : base(result?.ToString())
    {
        ArgumentNullException.ThrowIfNull(result);
        Result = result;
    }

    /// <summary>The failed check, with its counterexample.</summary>
    public PolicyCheckResult Result { get; }
}
