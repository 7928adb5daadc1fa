namespace PolicyEngine.Audit;

/// <summary>Options of an <see cref="AuditTrail"/>; read once, when the trail is opened.</summary>
public sealed class AuditTrailOptions
{
    /// <summary>How many records may wait for the writer (default 10,000). When it is full, new records are dropped and counted.</summary>
    public int Capacity { get; set; } = 10_000;

    /// <summary>The size at which an audit file is rotated (default 64 MiB; 0 never rotates). Ignored for streams.</summary>
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The clock for approval, policy and gap records (decision records carry the evaluator's time).</summary>
    public TimeProvider? TimeProvider { get; set; }
}
