namespace PolicyEngine.Cli;

/// <summary>The clock of an <c>eval</c> run: the real time until a call sets <c>at</c>, then that instant until the next <c>at</c>.</summary>
internal sealed class VirtualClock : TimeProvider
{
    private DateTimeOffset? _now;

    public void Set(DateTimeOffset now) => _now = now;

    public override DateTimeOffset GetUtcNow() => _now ?? System.GetUtcNow();
}
