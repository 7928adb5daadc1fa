using System.Text;

namespace PolicyEngine.Matching;

/// <summary>
/// Gives <c>$</c> the meaning policy authors expect: the end of the input. In .NET (without multiline) <c>$</c> also
/// matches just before a final newline, so <c>^[a-z]+$</c> would accept <c>"abc\n"</c>; in JavaScript (JSON Schema's
/// <c>pattern</c>, PolicyLayer) and Go (Intercept) it does not. Every unescaped <c>$</c> outside a character class
/// becomes <c>\z</c>, unless the pattern turns multiline mode on (<c>(?m)</c>), where <c>$</c> is an end of line.
/// </summary>
internal static class RegexAnchors
{
    /// <summary>The pattern with its end anchors rewritten (the same string when there is nothing to rewrite).</summary>
    public static string EndOfInput(string pattern)
    {
        if (!pattern.Contains('$', StringComparison.Ordinal) || EnablesMultiline(pattern))
        {
            return pattern;
        }

        var builder = new StringBuilder(pattern.Length + 4);
        var classDepth = 0;
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\')
            {
                builder.Append(c);
                if (i + 1 < pattern.Length)
                {
                    builder.Append(pattern[++i]);
                }

                continue;
            }

            if (classDepth == 0)
            {
                if (c == '$')
                {
                    builder.Append("\\z");
                    continue;
                }

                builder.Append(c);
                if (c == '[')
                {
                    classDepth = 1;
                    i = CopyClassStart(pattern, i, builder);
                }

                continue;
            }

            builder.Append(c);
            if (c == '-' && i + 1 < pattern.Length && pattern[i + 1] == '[')
            {
                // .NET character class subtraction: [a-z-[aeiou]].
                builder.Append('[');
                classDepth++;
                i = CopyClassStart(pattern, i + 1, builder);
            }
            else if (c == ']')
            {
                classDepth--;
            }
        }

        return builder.ToString();
    }

    /// <summary>Copies a class's leading <c>^</c> and a leading literal <c>]</c>; returns the index of the last character copied.</summary>
    private static int CopyClassStart(string pattern, int open, StringBuilder builder)
    {
        var i = open;
        if (i + 1 < pattern.Length && pattern[i + 1] == '^')
        {
            builder.Append('^');
            i++;
        }

        if (i + 1 < pattern.Length && pattern[i + 1] == ']')
        {
            builder.Append(']');
            i++;
        }

        return i;
    }

    /// <summary>Whether an inline option group such as <c>(?m)</c>, <c>(?im:</c> or <c>(?s-i)</c> turns multiline mode on.</summary>
    private static bool EnablesMultiline(string pattern)
    {
        for (var i = pattern.IndexOf("(?", StringComparison.Ordinal); i >= 0; i = pattern.IndexOf("(?", i + 2, StringComparison.Ordinal))
        {
            if (i > 0 && pattern[i - 1] == '\\')
            {
                continue;
            }

            var on = true;
            for (var j = i + 2; j < pattern.Length; j++)
            {
                var c = pattern[j];
                if (c is ')' or ':')
                {
                    break;
                }

                if (c == '-')
                {
                    on = false;
                }
                else if (c == 'm' && on)
                {
                    return true;
                }
                else if (c is not ('i' or 'n' or 's' or 'x'))
                {
                    break;
                }
            }
        }

        return false;
    }
}
