using System.Globalization;
using System.Text;

namespace PolicyEngine.Testing;

/// <summary>The outcome of checking a <see cref="PolicyInvariant"/>: passed, or a minimal counterexample in plain words.</summary>
public sealed class PolicyCheckResult
{
    internal PolicyCheckResult(string invariant, int tests, ulong seed, IReadOnlyList<PolicyCall>? counterexample, string? violation, int shrinkSteps)
    {
        Invariant = invariant;
        Tests = tests;
        Seed = seed;
        Counterexample = counterexample ?? [];
        Violation = violation;
        ShrinkSteps = shrinkSteps;
    }

    /// <summary><see langword="true"/> when no generated call or sequence broke the invariant.</summary>
    public bool Passed => Violation is null;

    /// <summary>What was checked, in words.</summary>
    public string Invariant { get; }

    /// <summary>How many calls or sequences were tried before passing or finding the first failure.</summary>
    public int Tests { get; }

    /// <summary>The seed of the search; set <see cref="PolicyCheckOptions.Seed"/> to it to replay.</summary>
    public ulong Seed { get; }

    /// <summary>The shrunk counterexample: one call, or a timed sequence; empty when the check passed.</summary>
    public IReadOnlyList<PolicyCall> Counterexample { get; }

    /// <summary>What went wrong with the counterexample, in plain words; <see langword="null"/> when the check passed.</summary>
    public string? Violation { get; }

    /// <summary>How many times the first counterexample found was made smaller.</summary>
    public int ShrinkSteps { get; }

    /// <summary>Throws <see cref="PolicyInvariantException"/> when the check failed.</summary>
    /// <exception cref="PolicyInvariantException">The invariant does not hold.</exception>
    public void ThrowIfFailed()
    {
        if (!Passed)
        {
            throw new PolicyInvariantException(this);
        }
    }

    /// <summary>A summary: passed after N tests, or the invariant, the counterexample and how to replay it.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        if (Passed)
        {
            return string.Create(CultureInfo.InvariantCulture, $"passed: {Invariant} ({Tests} tests, seed {Seed})");
        }

        return new StringBuilder()
            .Append("policy invariant violated: ").Append(Invariant).Append('\n')
            .Append(Violation).Append('\n')
            .Append(CultureInfo.InvariantCulture, $"(found after {Tests} tests, shrunk {ShrinkSteps} times; replay with PolicyCheckOptions.Seed = {Seed})")
            .ToString();
    }
}
