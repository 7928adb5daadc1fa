using System.Text.RegularExpressions;

namespace PolicyEngine.Matching;

/// <summary>
/// The cost budget every regex in a policy must fit (the <c>regex</c> operator and the <c>pattern</c> and
/// <c>patternProperties</c> keywords of <c>args_schema</c>).
/// </summary>
/// <remarks>
/// <para>
/// .NET's <see cref="RegexOptions.NonBacktracking"/> engine matches in time linear in the input, but it builds its
/// automaton lazily while matching, and the cost of each new state grows with the counted repetitions
/// (<c>{m,n}</c>) the state has to track. <c>([a-z]{1,50}){1,50}!</c> took over a minute for one evaluation on a
/// 1,000-character input; <c>\w{1,100}\s?\w{1,100}\s?\w{1,100}!</c> over a second. Measured on this engine, the
/// cost is driven by counted repetitions, how many there are and how they nest, not by the width of character
/// classes (<c>\p{L}</c>, <c>(?i)</c> and <c>[a-z]</c> cost the same) nor by plain literals and unbounded loops.
/// </para>
/// <para>
/// The measure (<see cref="Measure"/>) is the number of positions the counted repetitions expand to: a counted
/// repetition <c>X{m,n}</c> counts <c>n</c> copies of X (<c>m + 1</c> when open-ended), nested counts multiply,
/// and a repetition whose body itself repeats (<c>(a+b){5}</c>, <c>([a-z]{1,5}){1,5}</c>) counts four times as much,
/// as does an unbounded loop around a counted repetition (<c>([a-z]{1,10}x)+</c>, sixteen times). Literals, classes and
/// unbounded loops outside counted repetitions cost nothing here; the pattern's length is capped separately.
/// The scanner over-approximates where the syntax is ambiguous: it never counts less than the engine expands.
/// </para>
/// </remarks>
internal static partial class RegexBudget
{
    /// <summary>The largest accepted <see cref="Measure"/>.</summary>
    internal const long MaxExpansion = 100;

    /// <summary>The longest accepted pattern, in UTF-16 code units.</summary>
    internal const int MaxPatternLength = 2048;

    /// <summary>At most this many distinct patterns per document (regex operators and schema patterns together).</summary>
    internal const int MaxDistinctPatterns = 256;

    /// <summary>
    /// The run-time limit of one match. The static budget keeps accepted patterns far below it; it bounds what the
    /// budget cannot see (very long arguments, a stalled machine) and a match that exceeds it denies the call.
    /// </summary>
    internal static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>Options of every policy regex.</summary>
    internal const RegexOptions Options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;

    private const long WeightNestedRepetition = 4;
    private const long WeightUnboundedAroundCounted = 16;

    // Saturates well above the cap, so arithmetic on absurd counts ({2147483647}) cannot overflow.
    private const long Saturation = 1L << 40;

    /// <summary>
    /// Checks a pattern against the budget; returns null when it fits, else why it does not and how to fix it.
    /// Does not compile the pattern (the caller does, and reports syntax errors).
    /// </summary>
    public static string? Check(string pattern)
    {
        if (pattern.Length > MaxPatternLength)
        {
            return $"the pattern is {pattern.Length} characters long; at most {MaxPatternLength} are accepted (split it into several predicates combined with \"any\" or \"all\")";
        }

        var measure = Measure(pattern);
        if (measure > MaxExpansion)
        {
            return $"the pattern's counted repetitions expand to {(measure >= Saturation ? "more than 10^12" : measure.ToString(System.Globalization.CultureInfo.InvariantCulture))} positions; at most {MaxExpansion} are accepted, "
                + "because the linear-time engine's cost grows steeply with them (nested counts multiply, and a repeated group that itself repeats counts four times); "
                + "use + or * instead of large {m,n} counts, and avoid counted repetitions inside repeated groups";
        }

        return null;
    }

    /// <summary>The weighted expansion of the pattern's counted repetitions (see the remarks on <see cref="RegexBudget"/>).</summary>
    public static long Measure(string pattern)
    {
        var scanner = new Scanner(pattern);
        var result = scanner.Sequence(extended: false, topLevel: true);
        return result.Excess;
    }
}
