using System.Globalization;
using System.Text;

namespace PolicyEngine.Intercept.Go;

/// <summary>
/// Rewrites a Go (RE2) pattern into .NET syntax with the same meaning where the two dialects read the same text
/// differently: Go's named group <c>(?P&lt;name&gt;…)</c> becomes <c>(?&lt;name&gt;…)</c>; Go's Perl classes
/// <c>\d \w \s</c> (and their negations) are ASCII-only where .NET's are Unicode-aware, so they become explicit
/// ASCII sets; and Go's POSIX classes <c>[[:alpha:]]</c>, which .NET would silently read as a set of the letters
/// <c>[:alph</c>, become the sets they name. Everything else is shared syntax (or rejected by .NET and reported as
/// an invalid regex).
/// </summary>
internal static class GoRegex
{
    private static readonly (int Lo, int Hi)[] Digit = [('0', '9')];
    private static readonly (int Lo, int Hi)[] Word = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    private static readonly (int Lo, int Hi)[] Space = [('\t', '\n'), ('\f', '\r'), (' ', ' ')];

    private static readonly Dictionary<string, (int Lo, int Hi)[]> Posix = new(StringComparer.Ordinal)
    {
        ["alnum"] = [('0', '9'), ('A', 'Z'), ('a', 'z')],
        ["alpha"] = [('A', 'Z'), ('a', 'z')],
        ["ascii"] = [(0, 0x7F)],
        ["blank"] = [('\t', '\t'), (' ', ' ')],
        ["cntrl"] = [(0, 0x1F), (0x7F, 0x7F)],
        ["digit"] = [('0', '9')],
        ["graph"] = [('!', '~')],
        ["lower"] = [('a', 'z')],
        ["print"] = [(' ', '~')],
        ["punct"] = [('!', '/'), (':', '@'), ('[', '`'), ('{', '~')],
        ["space"] = [('\t', '\r'), (' ', ' ')],
        ["upper"] = [('A', 'Z')],
        ["word"] = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        ["xdigit"] = [('0', '9'), ('A', 'F'), ('a', 'f')],
    };

    public static string ToDotNet(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 16);
        var inClass = false;
        for (var i = 0; i < pattern.Length; i++)
        {
            var ch = pattern[i];
            if (ch == '\\' && i + 1 < pattern.Length)
            {
                var next = pattern[i + 1];
                var set = next switch
                {
                    'd' or 'D' => Digit,
                    'w' or 'W' => Word,
                    's' or 'S' => Space,
                    _ => null,
                };
                if (set is null)
                {
                    output.Append(ch).Append(next);
                }
                else
                {
                    var ranges = char.IsUpper(next) ? Complement(set) : set;
                    if (inClass)
                    {
                        AppendRanges(output, ranges);
                    }
                    else
                    {
                        output.Append('[');
                        AppendRanges(output, ranges);
                        output.Append(']');
                    }
                }

                i++;
                continue;
            }

            if (!inClass)
            {
                if (ch == '[')
                {
                    inClass = true;
                    output.Append(ch);

                    // A ']' right after '[' or '[^' is a literal in both dialects.
                    if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                    {
                        output.Append('^');
                        i++;
                    }

                    if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                    {
                        output.Append(']');
                        i++;
                    }
                }
                else if (ch == '(' && string.CompareOrdinal(pattern, i, "(?P<", 0, 4) == 0)
                {
                    output.Append("(?<");
                    i += 3;
                }
                else
                {
                    output.Append(ch);
                }

                continue;
            }

            if (ch == ']')
            {
                inClass = false;
                output.Append(ch);
                continue;
            }

            if (ch == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
            {
                var end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                if (end > 0)
                {
                    var name = pattern[(i + 2)..end];
                    var negated = name.StartsWith('^');
                    if (Posix.TryGetValue(negated ? name[1..] : name, out var ranges))
                    {
                        AppendRanges(output, negated ? Complement(ranges) : ranges);
                        i = end + 1;
                        continue;
                    }
                }
            }

            output.Append(ch);
        }

        return output.ToString();
    }

    private static (int Lo, int Hi)[] Complement((int Lo, int Hi)[] ranges)
    {
        var result = new List<(int, int)>();
        var next = 0;
        foreach (var (lo, hi) in ranges)
        {
            if (lo > next)
            {
                result.Add((next, lo - 1));
            }

            next = hi + 1;
        }

        if (next <= 0xFFFF)
        {
            result.Add((next, 0xFFFF));
        }

        return [.. result];
    }

    private static void AppendRanges(StringBuilder output, (int Lo, int Hi)[] ranges)
    {
        foreach (var (lo, hi) in ranges)
        {
            output.Append(CultureInfo.InvariantCulture, $"\\u{lo:X4}");
            if (hi != lo)
            {
                output.Append(CultureInfo.InvariantCulture, $"-\\u{hi:X4}");
            }
        }
    }
}
