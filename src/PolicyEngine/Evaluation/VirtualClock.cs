namespace PolicyEngine.Evaluation;

/// <summary>
/// The one settable clock for runs that drive time themselves: the CLI's <c>eval</c> and <c>explain</c> (the real
/// time until a call sets <c>at</c>), policy test files and Testing scenarios (a fixed start, moved per call).
/// </summary>
internal sealed class VirtualClock : TimeProvider
{
    private DateTimeOffset? _now;

    /// <summary>A clock that reads the real time until <see cref="Set"/> is called.</summary>
    public VirtualClock()
    {
    }

    /// <summary>A clock that starts at <paramref name="start"/>.</summary>
    public VirtualClock(DateTimeOffset start) => _now = start;

    /// <summary>Moves the clock to <paramref name="now"/> (any direction).</summary>
    public void Set(DateTimeOffset now) => _now = now;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => _now ?? System.GetUtcNow();
}
