using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace PolicyEngine.Matching;

/// <summary>
/// One process-wide home for the engine's regexes: the parser (regex operators, <c>args_schema</c> patterns), compiled
/// comparisons and the Intercept importer all build theirs here, within <see cref="RegexBudget"/>.
/// </summary>
/// <remarks>
/// NonBacktracking regexes are costly to build (milliseconds, hundreds of KB); policies repeat patterns, and a
/// Regex is immutable and thread-safe, so one instance serves every predicate with the same pattern. The cache is
/// keyed by the exact pattern and options, only ever grows (nothing is evicted, so one policy cannot push out
/// another's entries; once full, new patterns are simply built uncached), and holds only patterns that passed the
/// budget. A shared instance shares its lazily built automaton too, which changes no result.
/// </remarks>
internal static class RegexCache
{
    private const int MaxCachedRegexes = 1024;

    private static readonly ConcurrentDictionary<(string Pattern, RegexOptions Options), Regex> Regexes = new();

    /// <summary>
    /// Builds (or reuses) the regex for a pattern that fits <see cref="RegexBudget"/>; throws
    /// <see cref="RegexBudgetException"/> when it does not, and the engine's exceptions for a pattern it rejects.
    /// </summary>
    public static Regex Get(string pattern)
    {
        var key = (pattern, RegexBudget.Options);
        if (Regexes.TryGetValue(key, out var regex))
        {
            return regex;
        }

        if (RegexBudget.Check(pattern) is { } problem)
        {
            throw new RegexBudgetException(problem);
        }

        regex = new Regex(RegexAnchors.EndOfInput(pattern), RegexBudget.Options, RegexBudget.MatchTimeout);
        Warm(regex);
        if (Regexes.Count < MaxCachedRegexes)
        {
            Regexes.TryAdd(key, regex);
        }

        return regex;
    }

    /// <summary>
    /// One match on a short text while the policy is built. A process's first match also JIT-compiles the regex
    /// engine's own matching code, and the match budget is wall-clock time: on a starved machine the first call that
    /// needed a regex could overrun it and be denied. Here that cost is paid at build time, outside any budget.
    /// </summary>
    private static void Warm(Regex regex)
    {
        try
        {
            regex.IsMatch("warm-up 0123456789 abc ABC\n");
        }
        catch (RegexMatchTimeoutException)
        {
            // Only a warm-up: the pattern already passed the budget check, and a real call is bounded as always.
        }
    }
}
