using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace PolicyEngine.Redis;

/// <summary>
/// Redis key names. A counter or approval key is the configured prefix, a kind tag, and the lowercase hex SHA-256 of
/// the caller's key as UTF-16 code units: any string (<c>:</c>, braces, newlines, megabytes, lone surrogates) maps to a
/// fixed-length name that cannot collide with or inject into another key, and no brace of a value can change the
/// Redis Cluster hash slot (only the prefix's hash tag does).
/// </summary>
internal static class RedisKeys
{
    /// <summary>Hashes the UTF-16 code units, not UTF-8: UTF-8 would turn every lone surrogate into U+FFFD and merge them.</summary>
    public static string Build(string prefix, string kind, string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()), hash);
        return string.Concat(prefix, kind, Convert.ToHexStringLower(hash));
    }

    /// <summary>Whether <paramref name="prefix"/> holds a Redis Cluster hash tag: a <c>{</c> followed later by a non-empty run and a <c>}</c>.</summary>
    public static bool HasHashTag(string prefix)
    {
        var open = prefix.IndexOf('{', StringComparison.Ordinal);
        if (open < 0)
        {
            return false;
        }

        var close = prefix.IndexOf('}', open + 1);
        return close > open + 1;
    }
}
