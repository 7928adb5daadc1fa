namespace PolicyEngine.Matching;

/// <summary>
/// The <c>path_under</c> operator: does an argument path name the given directory or something inside it?
/// </summary>
/// <remarks>
/// Purely lexical (the filesystem is never consulted, so symlinks are out of scope): both <c>/</c> and <c>\</c>
/// separate segments; empty segments and <c>.</c> are dropped; <c>..</c> removes the previous segment. A path must be
/// absolute (a leading separator, or a drive letter, a colon and a separator); a relative path, a <c>..</c> that would
/// climb above the filesystem root, or a NUL character anywhere makes the check fail, because each of those is either
/// ambiguous or a known trick for escaping a sandbox. Segments compare ordinally, so <c>/workspace2</c> is not under
/// <c>/workspace</c>, nor is <c>/Workspace</c>.
/// </remarks>
internal static class PathUnder
{
    /// <summary>
    /// Normalises <paramref name="directory"/> for <see cref="IsUnder"/>. False for null, relative paths, paths
    /// containing NUL, and paths whose <c>..</c> climbs above the root.
    /// </summary>
    public static bool TryNormalizeRoot(string? directory, out NormalizedPath root)
    {
        root = default;
        if (directory is null || directory.Contains('\0', StringComparison.Ordinal)
            || !TrySplitPrefix(directory, out char drive, out int start))
        {
            return false;
        }

        var segments = new List<string>();
        ReadOnlySpan<char> rest = directory.AsSpan(start);
        while (NextSegment(ref rest, out ReadOnlySpan<char> segment))
        {
            if (IsDot(segment))
            {
                continue;
            }

            if (IsDotDot(segment))
            {
                if (segments.Count == 0)
                {
                    return false;
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            segments.Add(segment.ToString());
        }

        root = new NormalizedPath(drive, segments.ToArray(), windowsStyle: directory.Contains('\\', StringComparison.Ordinal));
        return true;
    }

    /// <summary>
    /// True when <paramref name="argument"/>, normalised, equals <paramref name="root"/> or lies inside it. Never
    /// allocates and never throws.
    /// </summary>
    public static bool IsUnder(ReadOnlySpan<char> argument, in NormalizedPath root)
    {
        string[]? rootSegments = root.Segments;
        if (rootSegments is null || argument.Contains('\0') || !TrySplitPrefix(argument, out char drive, out int start)
            || drive != root.Drive)
        {
            return false;
        }

        // Walk the segments once, keeping only the depth of the normalised path and how many of its leading segments
        // currently equal the root's. That is enough to decide, with no stack of segments: a ".." that pops below the
        // matched prefix shrinks it, and a segment pushed right after a fully matched prefix may extend it.
        ReadOnlySpan<char> rest = argument[start..];
        int depth = 0;
        int matched = 0;
        while (NextSegment(ref rest, out ReadOnlySpan<char> segment))
        {
            if (IsDot(segment))
            {
                continue;
            }

            if (IsDotDot(segment))
            {
                if (depth == 0)
                {
                    return false;
                }

                depth--;
                if (matched > depth)
                {
                    matched = depth;
                }

                continue;
            }

            if (matched == depth && depth < rootSegments.Length && segment.SequenceEqual(rootSegments[depth]))
            {
                matched++;
            }

            depth++;
        }

        return matched == rootSegments.Length;
    }

    /// <summary>
    /// True when <paramref name="argument"/> is written in a form that is harmless lexically but that a tool might
    /// decode or normalise into something else, so that a strict <c>path_under</c> refuses it whatever its lexical
    /// answer: a leading <c>//</c> or <c>\\</c> (UNC and implementation-defined roots); a backslash when the directory
    /// is a POSIX one (on POSIX it is a file name character, elsewhere a separator); a percent-encoded byte
    /// (<c>%2e%2e</c>); a control character (NUL, newline, DEL); a Unicode look-alike of a dot or a slash (full-width
    /// full stop, one-dot leader, fraction slash ...) that a tool's Unicode normalisation could turn into <c>.</c> or
    /// <c>/</c>; a segment other than <c>.</c> and <c>..</c> that ends in a dot or a space (Windows drops them, so
    /// <c>.. </c> and <c>...</c> can mean <c>..</c>). Never allocates and never throws.
    /// </summary>
    public static bool IsUnusual(ReadOnlySpan<char> argument, in NormalizedPath root)
    {
        if (argument.Length >= 2 && IsSeparator(argument[0]) && IsSeparator(argument[1]))
        {
            return true;
        }

        for (int i = 0; i < argument.Length; i++)
        {
            char c = argument[i];
            if (c < 0x20 || c == 0x7F || IsLookAlike(c) || (c == '\\' && !root.WindowsStyle))
            {
                return true;
            }

            if (c == '%' && i + 2 < argument.Length && char.IsAsciiHexDigit(argument[i + 1]) && char.IsAsciiHexDigit(argument[i + 2]))
            {
                return true;
            }
        }

        ReadOnlySpan<char> rest = argument;
        while (NextSegment(ref rest, out ReadOnlySpan<char> segment))
        {
            if (!IsDot(segment) && !IsDotDot(segment) && segment[^1] is '.' or ' ')
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Characters that Unicode compatibility normalisation (NFKC) or a lenient decoder may turn into a dot or a separator.</summary>
    private static bool IsLookAlike(char c) => c switch
    {
        '\u2024' or '\u2025' or '\u2026' => true,             // one-dot leader, two-dot leader, ellipsis
        '\uFE52' or '\uFF0E' or '\u3002' or '\uFF61' => true, // small, full-width, ideographic, half-width ideographic full stops
        '\u2044' or '\u2215' or '\u29F8' or '\uFF0F' or '\uFE68' => true, // fraction slash, division slash, big solidus, full-width solidus, small reverse solidus
        '\u2216' or '\u29F5' or '\u29F9' or '\uFF3C' => true, // set minus, reverse solidus operator, big reverse solidus, full-width reverse solidus
        '\u00A0' or '\u2000' or '\u2001' or '\u2002' or '\u2003' or '\u2004' or '\u2005' or '\u2006' or '\u2007' or '\u2008' or '\u2009' or '\u200A' or '\u202F' or '\u205F' or '\u3000' => true, // spaces NFKC turns into U+0020
        '\u200B' or '\u200C' or '\u200D' or '\u2060' or '\uFEFF' => true, // invisible characters
        _ => false,
    };

    private static bool IsSeparator(char c) => c is '/' or '\\';

    private static bool IsDot(ReadOnlySpan<char> segment) => segment.Length == 1 && segment[0] == '.';

    private static bool IsDotDot(ReadOnlySpan<char> segment) => segment.Length == 2 && segment[0] == '.' && segment[1] == '.';

    /// <summary>Finds where the segments start: after a leading separator, or after <c>X:</c> and a separator.</summary>
    private static bool TrySplitPrefix(ReadOnlySpan<char> path, out char drive, out int start)
    {
        drive = '\0';
        start = 0;
        if (path.Length >= 1 && IsSeparator(path[0]))
        {
            return true;
        }

        if (path.Length >= 3 && char.IsAsciiLetter(path[0]) && path[1] == ':' && IsSeparator(path[2]))
        {
            drive = path[0];
            start = 2;
            return true;
        }

        return false;
    }

    /// <summary>Takes the next non-empty segment off the front of <paramref name="rest"/>.</summary>
    private static bool NextSegment(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> segment)
    {
        int begin = 0;
        while (begin < rest.Length && IsSeparator(rest[begin]))
        {
            begin++;
        }

        if (begin == rest.Length)
        {
            rest = default;
            segment = default;
            return false;
        }

        rest = rest[begin..];
        int end = rest.IndexOfAny('/', '\\');
        if (end < 0)
        {
            end = rest.Length;
        }

        segment = rest[..end];
        rest = rest[end..];
        return true;
    }
}
