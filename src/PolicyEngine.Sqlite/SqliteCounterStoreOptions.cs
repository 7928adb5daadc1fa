namespace PolicyEngine.Sqlite;

/// <summary>Options of a <see cref="SqliteCounterStore"/>; copied and validated when the store is built.</summary>
public sealed class SqliteCounterStoreOptions
{
    /// <summary>The database file (created with its schema on first use). Required.</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// How long a reservation waits for another connection or process holding the write lock (default 5 seconds);
    /// past it the call throws and the evaluator's fail mode applies.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// <see langword="true"/> for <c>synchronous=FULL</c>: every reservation is on disk before the call is admitted, so
    /// even a power loss or OS crash loses none. The default <see langword="false"/> (<c>synchronous=NORMAL</c>) loses
    /// nothing when a process crashes or is killed, but a power loss may forget the last reservations.
    /// </summary>
    public bool SynchronousFull { get; set; }

    /// <summary>How often expired buckets are deleted (default 1 minute of the evaluator's clock).</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(1);
}
