namespace PolicyEngine.Matching;

/// <summary>
/// Glob patterns for tool names and the <c>glob</c> operator: <c>*</c> matches any sequence of characters (including
/// none, and including <c>/</c>), <c>?</c> matches exactly one UTF-16 code unit, and every other character matches
/// itself ordinally. There is no escape character and no character class.
/// </summary>
/// <remarks>
/// Matching uses the two-pointer algorithm that backtracks only to the most recent <c>*</c>, which is O(n·m) in the
/// worst case and never exponential, so a hostile argument cannot make a policy check slow.
/// </remarks>
internal static class Glob
{
    /// <summary>
    /// Above this many (i, j) states, <see cref="Intersects"/> gives up and answers true: it is used to reject
    /// ambiguous policies, so the safe answer is "they might overlap".
    /// </summary>
    internal const int MaxIntersectionStates = 4_000_000;

    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/> in full. A null pattern matches nothing.</summary>
    public static bool IsMatch(string? pattern, ReadOnlySpan<char> text)
    {
        if (pattern is null)
        {
            return false;
        }

        int p = 0;
        int t = 0;
        int starP = -1;
        int starT = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                // Remember the star and first try letting it match nothing.
                starP = p++;
                starT = t;
            }
            else if (starP >= 0)
            {
                // Let the last star swallow one more character and retry from just after it. Earlier stars never
                // need revisiting: the last star can absorb anything they could.
                p = starP + 1;
                t = ++starT;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>The number of characters before the first <c>*</c> or <c>?</c> (the whole length when there is none).</summary>
    public static int LiteralPrefixLength(string? pattern)
    {
        if (pattern is null)
        {
            return 0;
        }

        int index = pattern.AsSpan().IndexOfAny('*', '?');
        return index < 0 ? pattern.Length : index;
    }

    /// <summary>True when the pattern contains <c>*</c> or <c>?</c>.</summary>
    public static bool HasWildcard(string? pattern) => pattern is not null && pattern.AsSpan().IndexOfAny('*', '?') >= 0;

    /// <summary>
    /// True when some string matches both patterns. Explores the product of the two patterns' positions
    /// (O(|p|·|q|) states, each visited once). For pathologically large patterns (more than
    /// <see cref="MaxIntersectionStates"/> states) it returns true without searching.
    /// </summary>
    public static bool Intersects(string? p, string? q)
    {
        if (p is null || q is null)
        {
            return false;
        }

        int width = q.Length + 1;
        long states = (long)(p.Length + 1) * width;
        if (states > MaxIntersectionStates)
        {
            return true;
        }

        // This runs when a policy is compiled, not per call, so a visited array and an explicit stack are fine; the
        // explicit stack keeps long patterns from recursing deeply.
        bool[] visited = new bool[states];
        var pending = new Stack<int>();
        pending.Push(0);
        visited[0] = true;
        while (pending.Count > 0)
        {
            int state = pending.Pop();
            int i = state / width;
            int j = state % width;
            if (i == p.Length && j == q.Length)
            {
                return true;
            }

            // A star may match nothing.
            if (i < p.Length && p[i] == '*')
            {
                Visit(i + 1, j);
            }

            if (j < q.Length && q[j] == '*')
            {
                Visit(i, j + 1);
            }

            // Both consume one common character, if one exists. A star consumes it and stays put.
            if (i < p.Length && j < q.Length)
            {
                char a = p[i];
                char b = q[j];
                bool compatible = a is '*' or '?' || b is '*' or '?' || a == b;
                if (compatible && !(a == '*' && b == '*'))
                {
                    Visit(a == '*' ? i : i + 1, b == '*' ? j : j + 1);
                }
            }
        }

        return false;

        void Visit(int i, int j)
        {
            int next = (i * width) + j;
            if (!visited[next])
            {
                visited[next] = true;
                pending.Push(next);
            }
        }
    }
}
