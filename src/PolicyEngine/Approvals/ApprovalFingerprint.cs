using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using PolicyEngine.Json;

namespace PolicyEngine.Approvals;

/// <summary>
/// The id of an <see cref="ApprovalRequest"/>: lowercase hex SHA-256 over a domain tag and four length-prefixed parts
/// (policy version, identity id, tool, canonical arguments).
/// </summary>
/// <remarks>
/// The encoding is injective: strings enter as their UTF-16 code units (UTF-8 would turn every lone surrogate into
/// U+FFFD and let <c>"u\uD800"</c>'s approval serve <c>"u\uDC00"</c>), every part carries its byte length (so no two
/// splits of the same bytes meet), and the arguments are <see cref="Json.CanonicalJson"/>, which keeps lone
/// surrogates as escapes. Two calls share an id only if all four parts are equal, or SHA-256 collides.
/// </remarks>
internal static class ApprovalFingerprint
{
    // Changing the encoding changes every id: pending approvals of an older build then simply ask again.
    private static ReadOnlySpan<byte> Domain => "policyengine/approval/2\n"u8;

    /// <summary>The id of one call: its arguments (either shape) enter as their canonical JSON.</summary>
    public static string ForCall(string policyVersion, string identityId, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary) =>
        Compute(policyVersion, identityId, tool, CanonicalJson.ToCanonicalBytes(JsonObjects.Arguments(args, dictionary)));

    /// <summary>Computes the id.</summary>
    public static string Compute(string policyVersion, string identityId, string tool, ReadOnlySpan<byte> canonicalArguments)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Domain);
        AppendUtf16(hash, policyVersion);
        AppendUtf16(hash, identityId);
        AppendUtf16(hash, tool);
        AppendLength(hash, canonicalArguments.Length);
        hash.AppendData(canonicalArguments);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Appends the string's length in code units, then its code units as UTF-16LE (on any platform).</summary>
    private static void AppendUtf16(IncrementalHash hash, string value)
    {
        AppendLength(hash, value.Length);
        if (BitConverter.IsLittleEndian)
        {
            hash.AppendData(MemoryMarshal.AsBytes(value.AsSpan()));
            return;
        }

        Span<byte> unit = stackalloc byte[2];
        foreach (var c in value)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(unit, c);
            hash.AppendData(unit);
        }
    }

    private static void AppendLength(IncrementalHash hash, long length)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, length);
        hash.AppendData(bytes);
    }
}
