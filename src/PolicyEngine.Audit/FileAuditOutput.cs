using System.Globalization;
using System.Text;

namespace PolicyEngine.Audit;

/// <summary>
/// An audit file with size-based rotation. The current file is <c>audit.jsonl</c>; when the next record would take it
/// past the size limit it is renamed to <c>audit.000001.jsonl</c> (then <c>.000002</c>, …) and a new file is started.
/// The chain continues across the rename and across restarts: a new writer reads the last record of the current file
/// (or of the newest rotated one) and goes on from it.
/// </summary>
internal sealed class FileAuditOutput : AuditOutput
{
    private readonly string _path;
    private readonly long _maxFileBytes;
    private FileStream _stream;

    public FileAuditOutput(string path, long maxFileBytes)
    {
        _path = Path.GetFullPath(path);
        _maxFileBytes = maxFileBytes;
        var directory = Path.GetDirectoryName(_path)!;
        Directory.CreateDirectory(directory);

        var (tail, torn) = File.Exists(_path) ? LastLine(_path) : (null, false);
        if (tail is null && !torn && NewestRotated() is { } rotated)
        {
            (tail, _) = LastLine(rotated);
        }

        if (tail is not null)
        {
            if (AuditChain.TryRead(tail, out var last) is { } problem)
            {
                throw new InvalidDataException(
                    $"cannot continue the audit trail '{_path}': its last record is not a valid record ({problem}); run 'policyengine audit verify' and move the file away to start a new trail");
            }

            if (last.Hash != last.ComputedHash)
            {
                throw new InvalidDataException(
                    $"cannot continue the audit trail '{_path}': its last record (seq {last.Seq}) does not match its own hash (it was edited); run 'policyengine audit verify'");
            }

            LastSeq = last.Seq;
            LastHash = last.Hash;
        }

        if (torn)
        {
            // A crash cut the last record short. The file is sealed as it is (verify reports the cut record) and the
            // chain goes on from the last complete record in a new file.
            File.Move(_path, NextRotatedPath());
        }

        _stream = Open();
    }

    /// <summary>The current file's path.</summary>
    public string CurrentPath => _path;

    public override void Write(ReadOnlySpan<byte> line)
    {
        if (_maxFileBytes > 0 && _stream.Length > 0 && _stream.Length + line.Length + 1 > _maxFileBytes)
        {
            Rotate();
        }

        _stream.Write(line);
        _stream.WriteByte((byte)'\n');
    }

    public override void Flush() => _stream.Flush(flushToDisk: false);

    public override void Dispose() => _stream.Dispose();

    private FileStream Open() => new(_path, new FileStreamOptions
    {
        Mode = FileMode.Append,
        Access = FileAccess.Write,
        Share = FileShare.Read,
        BufferSize = 64 * 1024,
    });

    private void Rotate()
    {
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(_path, NextRotatedPath());
        _stream = Open();
    }

    /// <summary><c>dir/audit.000001.jsonl</c> for <c>dir/audit.jsonl</c>: the rotated files sort by name in chain order.</summary>
    private string RotatedPath(int index)
    {
        var extension = Path.GetExtension(_path);
        var stem = Path.Combine(Path.GetDirectoryName(_path)!, Path.GetFileNameWithoutExtension(_path));
        return string.Create(CultureInfo.InvariantCulture, $"{stem}.{index:D6}{extension}");
    }

    private IEnumerable<(int Index, string Path)> Rotated()
    {
        var extension = Path.GetExtension(_path);
        var stem = Path.GetFileNameWithoutExtension(_path);
        foreach (var file in Directory.EnumerateFiles(Path.GetDirectoryName(_path)!, stem + ".*" + extension))
        {
            var name = Path.GetFileName(file);
            var middle = name.AsSpan(stem.Length + 1, name.Length - stem.Length - 1 - extension.Length);
            if (middle.Length >= 6 && int.TryParse(middle, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                yield return (index, file);
            }
        }
    }

    private string? NewestRotated()
    {
        (int Index, string Path)? newest = null;
        foreach (var rotated in Rotated())
        {
            if (newest is null || rotated.Index > newest.Value.Index)
            {
                newest = rotated;
            }
        }

        return newest?.Path;
    }

    private string NextRotatedPath()
    {
        var next = 1;
        foreach (var (index, _) in Rotated())
        {
            next = Math.Max(next, index + 1);
        }

        return RotatedPath(next);
    }

    /// <summary>The last complete line of a file (without its newline), and whether an unterminated line follows it.</summary>
    internal static (byte[]? Line, bool Torn) LastLine(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var length = file.Length;
        if (length == 0)
        {
            return (null, false);
        }

        file.Position = length - 1;
        var torn = file.ReadByte() != '\n';
        var lineEnd = torn ? PreviousNewline(file, length - 1) : length - 1;
        if (lineEnd < 0)
        {
            return (null, torn);
        }

        var lineStart = PreviousNewline(file, lineEnd) + 1;
        var line = new byte[lineEnd - lineStart];
        file.Position = lineStart;
        file.ReadExactly(line);
        return (line, torn);
    }

    /// <summary>The position of the last newline before <paramref name="before"/>, or -1.</summary>
    private static long PreviousNewline(FileStream file, long before)
    {
        const int Block = 64 * 1024;
        var buffer = new byte[Block];
        var end = before;
        while (end > 0)
        {
            var count = (int)Math.Min(Block, end);
            var start = end - count;
            file.Position = start;
            file.ReadExactly(buffer, 0, count);
            var at = buffer.AsSpan(0, count).LastIndexOf((byte)'\n');
            if (at >= 0)
            {
                return start + at;
            }

            end = start;
        }

        return -1;
    }
}
