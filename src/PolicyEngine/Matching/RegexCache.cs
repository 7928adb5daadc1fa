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
        if (Regexes.Count < MaxCachedRegexes)
        {
            Regexes.TryAdd(key, regex);
        }

        return regex;
    }
}
