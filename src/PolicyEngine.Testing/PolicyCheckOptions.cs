namespace PolicyEngine.Testing;

/// <summary>How hard <see cref="PolicyInvariant.Check(PolicyCheckOptions?)"/> searches for a counterexample.</summary>
public sealed class PolicyCheckOptions
{
    /// <summary>How many generated calls or sequences to try (default 1000).</summary>
    public int Tests { get; set; } = 1000;

    /// <summary>
    /// The random seed; <see langword="null"/> (the default) picks a new one each run. A failure reports its seed, so
    /// setting it here replays the same search.
    /// </summary>
    public ulong? Seed { get; set; }

    /// <summary>The most candidate counterexamples tried while shrinking a failure (default 2000).</summary>
    public int MaxShrinkAttempts { get; set; } = 2000;
}
