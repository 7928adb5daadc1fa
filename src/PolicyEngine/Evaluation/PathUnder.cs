namespace PolicyEngine.Evaluation;

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

        root = new NormalizedPath(drive, segments.ToArray());
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
