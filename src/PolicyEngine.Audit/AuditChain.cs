using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace PolicyEngine.Audit;

/// <summary>
/// The chain rules shared by the writer and the verifier. A record is one line of compact JSON whose first member is
/// <c>"seq"</c> and whose last two are <c>"prev"</c> (the previous record's hash) and <c>"hash"</c>. A record's hash is
/// the lowercase hex SHA-256 of its UTF-8 text with the <c>,"hash":"…"</c> member taken out, that is of the text
/// ending in <c>"prev":"…"}</c>. The first record of a trail has <c>seq</c> 1 and <see cref="Genesis"/> as its prev.
/// </summary>
internal static class AuditChain
{
    /// <summary>The <c>prev</c> of the first record: 64 zeros.</summary>
    public const string Genesis = "0000000000000000000000000000000000000000000000000000000000000000";

    private const int HashHexLength = 64;

    private static readonly byte[] HashMember = ",\"hash\":\""u8.ToArray();

    private static readonly byte[] PrevMember = ",\"prev\":\""u8.ToArray();

    /// <summary>Hex SHA-256 of the body (the record without its hash member).</summary>
    public static string Hash(ReadOnlySpan<byte> body) => Convert.ToHexStringLower(SHA256.HashData(body));

    /// <summary>The full line: the body with <c>,"hash":"…"</c> inserted before its closing brace.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> body, string hash)
    {
        var line = new byte[body.Length + HashMember.Length + HashHexLength + 1];
        body[..^1].CopyTo(line);
        var at = body.Length - 1;
        HashMember.CopyTo(line.AsSpan(at));
        at += HashMember.Length;
        Encoding.ASCII.GetBytes(hash, line.AsSpan(at));
        at += HashHexLength;
        line[at] = (byte)'"';
        line[at + 1] = (byte)'}';
        return line;
    }

    /// <summary>
    /// Splits a line into its parts. Returns <see langword="null"/> when it is a well-formed record, otherwise what is wrong.
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> line, out ParsedRecord record)
    {
        record = default;
        if (line.Length < 2 || line[0] != (byte)'{' || line[^1] != (byte)'}')
        {
            return "not a JSON object on one line";
        }

        var hashStart = line.Length - 2 - HashHexLength;
        if (hashStart - HashMember.Length < 1 || !line[(hashStart - HashMember.Length)..hashStart].SequenceEqual(HashMember))
        {
            return "its last member is not \"hash\"";
        }

        var hash = line.Slice(hashStart, HashHexLength);
        var body = new byte[hashStart - HashMember.Length + 1];
        line[..(hashStart - HashMember.Length)].CopyTo(body);
        body[^1] = (byte)'}';

        var prevStart = body.Length - 2 - HashHexLength;
        if (prevStart - PrevMember.Length < 1 || !body.AsSpan((prevStart - PrevMember.Length)..prevStart).SequenceEqual(PrevMember) || body[^2] != (byte)'"')
        {
            return "the member before \"hash\" is not \"prev\"";
        }

        var prev = body.AsSpan(prevStart, HashHexLength);
        if (!IsHex(hash) || !IsHex(prev))
        {
            return "\"prev\" or \"hash\" is not 64 lowercase hex digits";
        }

        long seq;
        string? type;
        string? time;
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            var root = document.RootElement;
            using var members = root.EnumerateObject();
            if (!members.MoveNext() || members.Current.Name != "seq" || !members.Current.Value.TryGetInt64(out seq) || seq < 1)
            {
                return "its first member is not a positive \"seq\"";
            }

            type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            time = root.TryGetProperty("time", out var at) && at.ValueKind == JsonValueKind.String ? at.GetString() : null;
        }
        catch (JsonException ex)
        {
            return "not valid JSON (" + ex.Message + ")";
        }

        record = new ParsedRecord(seq, type, time, Encoding.ASCII.GetString(prev), Encoding.ASCII.GetString(hash), Hash(body));
        return null;
    }

    private static bool IsHex(ReadOnlySpan<byte> text)
    {
        foreach (var b in text)
        {
            if (b is not ((>= (byte)'0' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f')))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What the verifier and the writer's restart need from a record.</summary>
    /// <param name="Seq">Its sequence number.</param>
    /// <param name="Type">Its <c>type</c>.</param>
    /// <param name="Time">Its <c>time</c> as written.</param>
    /// <param name="Prev">The hash it says the previous record has.</param>
    /// <param name="Hash">The hash it says it has.</param>
    /// <param name="ComputedHash">The hash its content actually has.</param>
    public readonly record struct ParsedRecord(long Seq, string? Type, string? Time, string Prev, string Hash, string ComputedHash)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"seq {Seq}");
    }
}
