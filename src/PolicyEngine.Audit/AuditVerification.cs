namespace PolicyEngine.Audit;

/// <summary>The result of <see cref="AuditVerifier.Verify(IEnumerable{string})"/>.</summary>
public sealed class AuditVerification
{
    internal AuditVerification(IReadOnlyList<string> files, long records, long lastSeq, string lastHash, AuditBreak? firstBreak)
    {
        Files = files;
        Records = records;
        LastSeq = lastSeq;
        LastHash = lastHash;
        FirstBreak = firstBreak;
    }

    /// <summary><see langword="true"/> when every record is intact and in place.</summary>
    public bool IsIntact => FirstBreak is null;

    /// <summary>The files, in chain order.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>How many records were verified (up to the first break).</summary>
    public long Records { get; }

    /// <summary>The sequence number of the last verified record (0 when none).</summary>
    public long LastSeq { get; }

    /// <summary>The hash of the last verified record: keep it elsewhere to detect a trail cut short later.</summary>
    public string LastHash { get; }

    /// <summary>The first broken record, or <see langword="null"/> when the chain is intact.</summary>
    public AuditBreak? FirstBreak { get; }
}
