using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace PolicyEngine.Redis;

/// <summary>
/// The hash tag of a counter in the sharded layout: which part of the counter key chooses its Redis Cluster slot, and
/// the tag text derived from it.
/// </summary>
/// <remarks>
/// <para>The evaluator builds counter keys as <c>{n}:{counter id}|{window ms}{f|s}|{m}:{scope value}</c>, with both
/// variable parts length-prefixed, and the scope value is <c>g</c> + identity id (grant), <c>t</c> + tool name (tool),
/// <c>s</c> + string or <c>j</c> + canonical JSON (<c>args.*</c>), or <c>*</c> (global). Reading the length prefixes
/// from the left, a key parses in at most one way. The slot source is then, tagged by one class character: the identity
/// (<c>g</c>: all of one identity's counters share a slot), the tool (<c>t</c>: all counters of one tool), the argument
/// value (<c>a</c>), or the counter id (<c>*</c>: a global counter). Any other key (one a host built by hand, or a
/// future format) is tagged by the whole key (<c>#</c>).</para>
/// <para>The tag is the first 64 bits of the SHA-256 of the class character and the source's UTF-16 code units, in
/// lowercase hex. So it never contains a brace whatever the identity holds (<c>{</c>, <c>}</c>, newlines, lone
/// surrogates, a megabyte), it cannot be steered into another class's tag, and it has a fixed length. The tag only
/// chooses the slot: the Redis key also holds the SHA-256 of the whole counter key, so two counters whose tags collide
/// (or whose tags land in one slot, as most do: there are only 16,384 slots) share a shard, never a count.</para>
/// </remarks>
internal static class CounterHashTag
{
    /// <summary>Slot class of a grant-scoped counter: tagged by the identity id.</summary>
    public const char Grant = 'g';

    /// <summary>Slot class of a tool-scoped counter: tagged by the tool name.</summary>
    public const char Tool = 't';

    /// <summary>Slot class of an <c>args.*</c>-scoped counter: tagged by the argument value (with its string/JSON marker).</summary>
    public const char Argument = 'a';

    /// <summary>Slot class of a global counter: tagged by the counter id.</summary>
    public const char Global = '*';

    /// <summary>Slot class of a key that is not in the evaluator's format: tagged by the whole key.</summary>
    public const char Other = '#';

    /// <summary>Writes the 16 lowercase hex digits of <paramref name="counterKey"/>'s tag into <paramref name="destination"/>.</summary>
    public static void Write(string counterKey, Span<char> destination)
    {
        var slotClass = Classify(counterKey, out var source);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ReadOnlySpan<char> classChar = [slotClass];
        hash.AppendData(MemoryMarshal.AsBytes(classChar));
        hash.AppendData(MemoryMarshal.AsBytes(source));
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        hash.GetHashAndReset(digest);
        var written = Convert.TryToHexStringLower(digest[..(RedisKeys.TagLength / 2)], destination, out var count);
        System.Diagnostics.Debug.Assert(written && count == RedisKeys.TagLength, "the tag fills its buffer");
    }

    /// <summary>The slot class of a counter key and the part of it that chooses the slot.</summary>
    public static char Classify(string key, out ReadOnlySpan<char> source)
    {
        source = key;
        if (!TryReadLength(key, 0, out var counterLength, out var at) || counterLength > key.Length - at)
        {
            return Other;
        }

        var counterId = key.AsSpan(at, counterLength);
        at += counterLength;
        if (at >= key.Length || key[at] != '|')
        {
            return Other;
        }

        var windowStart = ++at;
        while (at < key.Length && char.IsAsciiDigit(key[at]))
        {
            at++;
        }

        if (at == windowStart || at + 1 >= key.Length || (key[at] != 'f' && key[at] != 's') || key[at + 1] != '|')
        {
            return Other;
        }

        if (!TryReadLength(key, at + 2, out var scopeLength, out at) || scopeLength != key.Length - at || scopeLength == 0)
        {
            return Other;
        }

        var scope = key.AsSpan(at);
        switch (scope[0])
        {
            case '*' when scope.Length == 1:
                source = counterId;
                return Global;
            case 'g':
                source = scope[1..];
                return Grant;
            case 't':
                source = scope[1..];
                return Tool;
            case 's' or 'j':
                source = scope;
                return Argument;
            default:
                return Other;
        }
    }

    /// <summary>Reads a decimal length (no sign, no leading zero unless it is 0) ending at a <c>:</c>.</summary>
    private static bool TryReadLength(string key, int start, out int length, out int next)
    {
        length = 0;
        next = start;
        var at = start;
        while (at < key.Length && char.IsAsciiDigit(key[at]))
        {
            if (at - start >= 9 || (at > start && key[start] == '0'))
            {
                return false;
            }

            length = (length * 10) + (key[at] - '0');
            at++;
        }

        if (at == start || at >= key.Length || key[at] != ':')
        {
            return false;
        }

        next = at + 1;
        return true;
    }
}
