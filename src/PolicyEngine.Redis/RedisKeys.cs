using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace PolicyEngine.Redis;

/// <summary>
/// Redis key names. A counter or approval key is the configured prefix, a kind tag, and the lowercase hex SHA-256 of
/// the caller's key as UTF-16 code units: any string (<c>:</c>, braces, newlines, megabytes, lone surrogates) maps to a
/// fixed-length name that cannot collide with or inject into another key. No brace of a value can change the Redis
/// Cluster hash slot: in the single-slot layout only the prefix's hash tag counts; in the sharded layout the only
/// braces are the store's own, around a hash tag of lowercase hex digits (see <see cref="CounterHashTag"/>).
/// </summary>
internal static class RedisKeys
{
    /// <summary>The number of Redis Cluster hash slots.</summary>
    public const int SlotCount = 16384;

    /// <summary>Hex digits of a sharded counter's hash tag (64 bits of SHA-256: plenty to spread over 16,384 slots).</summary>
    public const int TagLength = 16;

    /// <summary>Hashes the UTF-16 code units, not UTF-8: UTF-8 would turn every lone surrogate into U+FFFD and merge them.</summary>
    public static string Build(string prefix, string kind, string key) => string.Concat(prefix, kind, Hash(key));

    /// <summary>
    /// A counter's key in the sharded layout, <c>{prefix}c:{{tag}}:{sha256}</c>, and its hash slot. The tag only
    /// chooses the slot; the SHA-256 of the whole counter key still names the counter, so two counter keys whose tags
    /// collide share a slot (and a shard), never a count.
    /// </summary>
    public static (string Key, int Slot) BuildSharded(string prefix, string counterKey)
    {
        Span<char> tag = stackalloc char[TagLength];
        CounterHashTag.Write(counterKey, tag);
        var key = string.Concat(prefix, "c:{", new string(tag), "}:" + Hash(counterKey));
        return (key, HashSlot(tag));
    }

    /// <summary>The lowercase hex SHA-256 of <paramref name="key"/>'s UTF-16 code units.</summary>
    private static string Hash(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()), hash);
        return Convert.ToHexStringLower(hash);
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

    /// <summary>
    /// The hash slot of a key, as Redis Cluster computes it: CRC16 (XMODEM) of the hash tag — the text between the first
    /// <c>{</c> and the first <c>}</c> after it, when non-empty — or else of the whole key, modulo 16,384. Keys are taken
    /// as UTF-8 bytes (the form the store sends).
    /// </summary>
    public static int KeySlot(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            var close = key[(open + 1)..].IndexOf((byte)'}');
            if (close > 0)
            {
                key = key.Slice(open + 1, close);
            }
        }

        return Crc16(key) & (SlotCount - 1);
    }

    /// <summary>The slot of a hash tag made of ASCII characters (the sharded layout's hex tags).</summary>
    public static int HashSlot(ReadOnlySpan<char> asciiTag)
    {
        ushort crc = 0;
        foreach (var c in asciiTag)
        {
            crc = Step(crc, (byte)c);
        }

        return crc & (SlotCount - 1);
    }

    /// <summary>CRC-16/XMODEM (polynomial 0x1021, initial value 0), the checksum Redis Cluster slots are computed with.</summary>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var b in data)
        {
            crc = Step(crc, b);
        }

        return crc;
    }

    private static ushort Step(ushort crc, byte value)
    {
        crc ^= (ushort)(value << 8);
        for (var bit = 0; bit < 8; bit++)
        {
            crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
        }

        return crc;
    }
}
