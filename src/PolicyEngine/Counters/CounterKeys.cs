using System.Globalization;

namespace PolicyEngine.Counters;

/// <summary>
/// The storage key of a counter, <c>{n}:{counter}|{window ms}{f|s}|{m}:{kind}{value}</c>: every variable part is
/// length-prefixed, so no identity or argument value can make two counters meet (<c>"a:b"</c> vs <c>"a"</c> +
/// <c>":b"</c>, empty strings, any Unicode). The part up to the second <c>|</c> is the limit's <em>prefix</em> (its
/// counter, window and algorithm); the kind is <c>g</c> (grant: the identity id), <c>t</c> (tool name), <c>s</c>
/// (string argument), <c>j</c> (canonical JSON of another argument) or <c>*</c> (global, with an empty value).
/// </summary>
/// <remarks>
/// Every store counts by the whole key. The in-memory store also reads a key back into (prefix, kind, value)
/// (<see cref="TryParse"/>) so that it can hold a counter under the host's own identity string instead of a second
/// key string; the format is a bijection, so that reading never makes two keys meet either.
/// </remarks>
internal static class CounterKeys
{
    /// <summary>The kind of a grant-scoped counter (its value is the identity id).</summary>
    public const char Grant = 'g';

    /// <summary>The kind of a global counter (its value is empty).</summary>
    public const char Global = '*';

    /// <summary>The prefix of every key of <paramref name="rule"/>'s counter: <c>{n}:{counter}|{window ms}{f|s}|</c>.</summary>
    public static string Prefix(LimitRule rule)
    {
        var window = (long)rule.Window.TotalMilliseconds;
        var algorithm = rule.Algorithm == LimitAlgorithm.Sliding ? 's' : 'f';
        return string.Create(CultureInfo.InvariantCulture, $"{rule.Counter.Length}:{rule.Counter}|{window}{algorithm}|");
    }

    /// <summary>The key of the counter of kind <paramref name="kind"/> and scope value <paramref name="value"/>.</summary>
    public static string Build(string prefix, char kind, ReadOnlySpan<char> value) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}{value.Length + 1}:{kind}{value}");

    /// <summary>
    /// Reads a key in this format back: the prefix is <c>key[..prefixLength]</c>, the value <c>key[valueStart..]</c>.
    /// Any other string (a key a host built itself) returns <see langword="false"/>. <paramref name="window"/> and
    /// <paramref name="algorithm"/> are what the prefix encodes.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> key, out int prefixLength, out char kind, out int valueStart, out long window, out LimitAlgorithm algorithm)
    {
        prefixLength = valueStart = 0;
        kind = '\0';
        window = 0;
        algorithm = LimitAlgorithm.Fixed;
        var at = 0;
        if (!TryReadLength(key, ref at, out var counterLength) || key.Length - at < counterLength)
        {
            return false;
        }

        at += counterLength;
        if (at >= key.Length || key[at++] != '|' || !TryReadNumber(key, ref at, out window) || at + 1 >= key.Length)
        {
            return false;
        }

        var letter = key[at++];
        if (letter is not ('f' or 's') || key[at++] != '|')
        {
            return false;
        }

        algorithm = letter == 's' ? LimitAlgorithm.Sliding : LimitAlgorithm.Fixed;
        prefixLength = at;
        if (!TryReadLength(key, ref at, out var valueLength) || valueLength < 1 || key.Length - at != valueLength)
        {
            return false;
        }

        kind = key[at];
        valueStart = at + 1;
        return true;
    }

    /// <summary>Reads <c>{digits}:</c> (a length, no leading zero unless it is 0).</summary>
    private static bool TryReadLength(ReadOnlySpan<char> key, ref int at, out int length)
    {
        length = 0;
        if (!TryReadNumber(key, ref at, out var number) || number > int.MaxValue || at >= key.Length || key[at] != ':')
        {
            return false;
        }

        at++;
        length = (int)number;
        return true;
    }

    /// <summary>Reads the canonical decimal digits of a non-negative number (as <see cref="long.ToString()"/> writes them).</summary>
    private static bool TryReadNumber(ReadOnlySpan<char> key, ref int at, out long number)
    {
        number = 0;
        var start = at;
        while (at < key.Length && char.IsAsciiDigit(key[at]) && at - start < 18)
        {
            number = (number * 10) + (key[at] - '0');
            at++;
        }

        // One canonical spelling per number ("07" is not 7), so the reading stays a bijection.
        return at > start && (key[start] != '0' || at - start == 1);
    }
}
