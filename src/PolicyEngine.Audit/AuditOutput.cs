namespace PolicyEngine.Audit;

/// <summary>Where sealed records go: a stream, or rotating files. Used by one writer thread only.</summary>
internal abstract class AuditOutput : IDisposable
{
    /// <summary>The sequence number of the last record already written (0 for a new trail).</summary>
    public long LastSeq { get; protected set; }

    /// <summary>The hash of the last record already written (<see cref="AuditChain.Genesis"/> for a new trail).</summary>
    public string LastHash { get; protected set; } = AuditChain.Genesis;

    /// <summary>Writes one record and its newline.</summary>
    public abstract void Write(ReadOnlySpan<byte> line);

    /// <summary>Pushes what was written to the device.</summary>
    public abstract void Flush();

    public abstract void Dispose();
}
