using System.Globalization;

namespace PolicyEngine.Audit;

/// <summary>
/// Checks an audit trail's hash chain: every record must match its own hash, follow the record before it (its
/// <c>prev</c> is that record's hash) and carry the next sequence number, from the first record (<c>seq</c> 1) on,
/// across rotated files. The files may be given in any order: they are put in chain order by their first record.
/// </summary>
/// <remarks>
/// A chain proves the records are as written, in order and complete up to its last record. It cannot prove that
/// nothing was cut off the end: keep <see cref="AuditVerification.LastHash"/> somewhere else (a ticket, another host)
/// and compare it later.
/// </remarks>
public static class AuditVerifier
{
    /// <summary>Verifies the trail made of <paramref name="paths"/>.</summary>
    /// <param name="paths">The current file and its rotated files, in any order.</param>
    /// <returns>The result: intact, or the first broken record.</returns>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static AuditVerification Verify(IEnumerable<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = InChainOrder(paths);
        long records = 0;
        long expectedSeq = 1;
        var expectedPrev = AuditChain.Genesis;
        foreach (var file in files)
        {
            foreach (var (lineNumber, line, terminated) in Lines(file))
            {
                var at = string.Create(CultureInfo.InvariantCulture, $"{file}:{lineNumber}");
                if (!terminated)
                {
                    return Broken(files, records, expectedSeq, expectedPrev, file, lineNumber, null, $"{at}: the last record is cut short (no newline): the writer stopped mid-record or the file was truncated");
                }

                if (AuditChain.TryRead(line, out var record) is { } problem)
                {
                    return Broken(files, records, expectedSeq, expectedPrev, file, lineNumber, null, $"{at}: not an audit record: {problem}");
                }

                if (record.Hash != record.ComputedHash)
                {
                    return Broken(files, records, expectedSeq, expectedPrev, file, lineNumber, record.Seq, $"{at}: record seq {record.Seq} was edited: its content does not match its hash");
                }

                if (record.Seq != expectedSeq)
                {
                    var what = record.Seq > expectedSeq
                        ? $"records were removed or reordered before it (expected seq {expectedSeq})"
                        : $"it repeats or comes after a later record (expected seq {expectedSeq}): records were reordered or copied";
                    return Broken(files, records, expectedSeq, expectedPrev, file, lineNumber, record.Seq, $"{at}: record seq {record.Seq} is out of place: {what}");
                }

                if (record.Prev != expectedPrev)
                {
                    return Broken(files, records, expectedSeq, expectedPrev, file, lineNumber, record.Seq,
                        $"{at}: record seq {record.Seq} does not follow the record before it (its prev is not that record's hash): the record before it was edited or replaced");
                }

                records++;
                expectedSeq++;
                expectedPrev = record.Hash;
            }
        }

        return new AuditVerification(files, records, expectedSeq - 1, expectedPrev, null);
    }

    private static AuditVerification Broken(IReadOnlyList<string> files, long records, long expectedSeq, string expectedPrev, string file, long line, long? seq, string message) =>
        new(files, records, expectedSeq - 1, expectedPrev, new AuditBreak(file, line, seq, message));

    /// <summary>The files sorted by the <c>seq</c> of their first record (files whose first line is not a record first, then by name).</summary>
    internal static IReadOnlyList<string> InChainOrder(IEnumerable<string> paths)
    {
        var keyed = new List<(long Seq, string Path)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in paths)
        {
            ArgumentException.ThrowIfNullOrEmpty(path);
            if (!seen.Add(Path.GetFullPath(path)))
            {
                throw new ArgumentException($"the file '{path}' is given twice", nameof(paths));
            }

            long seq = 0;
            foreach (var (_, line, _) in Lines(path))
            {
                seq = AuditChain.TryRead(line, out var record) is null ? record.Seq : 0;
                break;
            }

            keyed.Add((seq, path));
        }

        keyed.Sort((a, b) => a.Seq != b.Seq ? a.Seq.CompareTo(b.Seq) : string.CompareOrdinal(a.Path, b.Path));
        return keyed.ConvertAll(k => k.Path);
    }

    /// <summary>The lines of a file, numbered from 1, and whether each ended with a newline. A trailing newline ends the file.</summary>
    internal static IEnumerable<(long Number, byte[] Line, bool Terminated)> Lines(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        var current = new List<byte>(1024);
        long number = 0;
        var buffer = new byte[64 * 1024];
        int read;
        while ((read = file.Read(buffer, 0, buffer.Length)) > 0)
        {
            var start = 0;
            while (start < read)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, read - start);
                if (newline < 0)
                {
                    current.AddRange(buffer.AsSpan(start, read - start));
                    break;
                }

                current.AddRange(buffer.AsSpan(start, newline - start));
                yield return (++number, current.ToArray(), true);
                current.Clear();
                start = newline + 1;
            }
        }

        if (current.Count > 0)
        {
            yield return (++number, current.ToArray(), false);
        }
    }
}
