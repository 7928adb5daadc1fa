namespace PolicyEngine.Audit;

/// <summary>Where an audit chain breaks, and how.</summary>
/// <param name="File">The file holding the broken record.</param>
/// <param name="Line">Its line number (from 1).</param>
/// <param name="Seq">Its sequence number, when it could be read.</param>
/// <param name="Message">What is wrong: edited, out of place (removed or reordered records), not following the record before it, cut short, or not a record.</param>
public sealed record AuditBreak(string File, long Line, long? Seq, string Message);
