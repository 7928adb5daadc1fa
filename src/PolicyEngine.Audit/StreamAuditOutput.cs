namespace PolicyEngine.Audit;

/// <summary>A host's stream: one chain from genesis, no rotation. The stream is the host's; it is flushed, not closed, unless asked.</summary>
internal sealed class StreamAuditOutput(Stream stream, bool leaveOpen) : AuditOutput
{
    public override void Write(ReadOnlySpan<byte> line)
    {
        stream.Write(line);
        stream.WriteByte((byte)'\n');
    }

    public override void Flush() => stream.Flush();

    public override void Dispose()
    {
        if (!leaveOpen)
        {
            stream.Dispose();
        }
    }
}
