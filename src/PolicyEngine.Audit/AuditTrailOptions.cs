namespace PolicyEngine.Audit;

/// <summary>
/// Options of an <see cref="AuditTrail"/>; validated and read once, when the trail is opened. The clock is a parameter
/// of <see cref="AuditTrail.ToFile"/> and <see cref="AuditTrail.ToStream"/>, as for every other component.
/// </summary>
public sealed class AuditTrailOptions
{
    /// <summary>How many records may wait for the writer (default 10,000). When it is full, new records are dropped and counted.</summary>
    public int Capacity { get; set; } = 10_000;

    /// <summary>The size at which an audit file is rotated (default 64 MiB; 0 never rotates; never negative). Not used by streams, which never rotate.</summary>
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;
}
