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
internal static class RegexBudget
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

    /// <summary>A scanned piece: its expanded size, the part of it due to counted repetitions, and what it contains.</summary>
    private readonly record struct Piece(long Size, long Excess, bool HasQuantifier, bool HasCounted);

    private sealed class Scanner(string pattern)
    {
        private int _pos;

        /// <summary>Alternatives up to a closing parenthesis (consumed by the caller) or the end.</summary>
        public Piece Sequence(bool extended, bool topLevel)
        {
            long size = 0, excess = 0;
            bool quantified = false, counted = false;
            Piece? last = null;
            while (_pos < pattern.Length)
            {
                var c = pattern[_pos];
                if (extended && (char.IsWhiteSpace(c) || c == '#'))
                {
                    SkipExtendedBlank();
                    continue;
                }

                if (c == ')')
                {
                    if (topLevel)
                    {
                        // Unbalanced: the engine rejects it; count the rest as literals.
                        _pos++;
                        last = new Piece(1, 0, false, false);
                    }
                    else
                    {
                        break;
                    }
                }
                else if (c == '|')
                {
                    _pos++;
                    last = null;
                    continue;
                }
                else if (c is '*' or '+' or '?' || (c == '{' && IsQuantifier(_pos)))
                {
                    if (last is not { } body)
                    {
                        // A quantifier after nothing is a syntax error; the engine rejects it.
                        _pos++;
                        continue;
                    }

                    var quantifiedPiece = Quantify(body);
                    size += quantifiedPiece.Size - body.Size;
                    excess += quantifiedPiece.Excess - body.Excess;
                    quantified = true;
                    counted |= quantifiedPiece.HasCounted;
                    SkipLazyMarker();

                    // A second quantifier ("a{2}{3}") applies to the quantified piece.
                    last = quantifiedPiece;
                    continue;
                }
                else if (c == '(')
                {
                    last = Group(ref extended);
                    if (last is null)
                    {
                        continue;
                    }
                }
                else if (c == '[')
                {
                    SkipClass();
                    last = new Piece(1, 0, false, false);
                }
                else if (c == '\\')
                {
                    SkipEscape();
                    last = new Piece(1, 0, false, false);
                }
                else
                {
                    _pos++;
                    last = new Piece(1, 0, false, false);
                }

                var piece = last.Value;
                size = Add(size, piece.Size);
                excess = Add(excess, piece.Excess);
                quantified |= piece.HasQuantifier;
                counted |= piece.HasCounted;
            }

            return new Piece(size, excess, quantified, counted);
        }

        private Piece Quantify(Piece body)
        {
            var c = pattern[_pos];
            long min, max;
            if (c == '{')
            {
                ReadQuantifier(out min, out max);
            }
            else
            {
                _pos++;
                (min, max) = c switch { '*' => (0L, -1L), '+' => (1L, -1L), _ => (0L, 1L) };
            }

            long size;
            long excess;
            var isCounted = max < 0 ? min > 1 : max > 1;
            if (isCounted)
            {
                var copies = max < 0 ? Add(min, 1) : max;
                size = Multiply(Multiply(body.Size, copies), body.HasQuantifier ? WeightNestedRepetition : 1);
                excess = size;
            }
            else if (max < 0 && body.HasCounted)
            {
                size = Multiply(body.Size, WeightUnboundedAroundCounted);
                excess = size;
            }
            else
            {
                size = body.Size;
                excess = body.Excess;
            }

            return new Piece(size, excess, true, body.HasCounted || isCounted);
        }

        /// <summary>Scans a group from its "("; returns null for a construct that matches nothing (options, comments).</summary>
        private Piece? Group(ref bool extended)
        {
            _pos++;
            var innerExtended = extended;
            if (_pos < pattern.Length && pattern[_pos] == '?')
            {
                _pos++;
                if (_pos < pattern.Length && pattern[_pos] == '#')
                {
                    var end = pattern.IndexOf(')', _pos);
                    _pos = end < 0 ? pattern.Length : end + 1;
                    return null;
                }

                // Inline options "(?imnsx-imnsx)" or "(?imnsx-imnsx:...)".
                var start = _pos;
                var on = true;
                var x = extended;
                while (_pos < pattern.Length && (char.IsAsciiLetter(pattern[_pos]) || pattern[_pos] == '-'))
                {
                    if (pattern[_pos] == '-')
                    {
                        on = false;
                    }
                    else if (pattern[_pos] is 'x' or 'X')
                    {
                        x = on;
                    }

                    _pos++;
                }

                if (_pos < pattern.Length && _pos > start && pattern[_pos] == ')')
                {
                    // Applies to the rest of the enclosing group.
                    _pos++;
                    extended = x;
                    return null;
                }

                if (_pos < pattern.Length && _pos > start && pattern[_pos] == ':')
                {
                    _pos++;
                    innerExtended = x;
                }
                else
                {
                    // Any other header ("(?:", "(?<name>", "(?'name'", lookarounds, conditionals): skip to where the
                    // body starts. Unknown headers are syntax errors the engine rejects.
                    _pos = start;
                    if (_pos < pattern.Length && pattern[_pos] is '<' or '\'')
                    {
                        var close = pattern[_pos] == '<' ? '>' : '\'';
                        if (_pos + 1 < pattern.Length && pattern[_pos + 1] is '=' or '!')
                        {
                            _pos += 2;
                        }
                        else
                        {
                            var end = pattern.IndexOf(close, _pos + 1);
                            _pos = end < 0 ? pattern.Length : end + 1;
                        }
                    }
                    else if (_pos < pattern.Length && pattern[_pos] is ':' or '=' or '!' or '>')
                    {
                        _pos++;
                    }
                }
            }

            var body = Sequence(innerExtended, topLevel: false);
            if (_pos < pattern.Length && pattern[_pos] == ')')
            {
                _pos++;
            }

            return body;
        }

        private void SkipExtendedBlank()
        {
            if (pattern[_pos] == '#')
            {
                var end = pattern.IndexOf('\n', _pos);
                _pos = end < 0 ? pattern.Length : end + 1;
            }
            else
            {
                _pos++;
            }
        }

        private void SkipLazyMarker()
        {
            if (_pos < pattern.Length && pattern[_pos] == '?')
            {
                _pos++;
            }
        }

        private void SkipEscape()
        {
            _pos++;
            if (_pos >= pattern.Length)
            {
                return;
            }

            var c = pattern[_pos];
            _pos++;
            if (c is 'p' or 'P' && _pos < pattern.Length && pattern[_pos] == '{')
            {
                var end = pattern.IndexOf('}', _pos);
                _pos = end < 0 ? pattern.Length : end + 1;
            }
            else if (c == 'k' && _pos < pattern.Length && pattern[_pos] is '<' or '\'' or '{')
            {
                var close = pattern[_pos] switch { '<' => '>', '{' => '}', _ => '\'' };
                var end = pattern.IndexOf(close, _pos + 1);
                _pos = end < 0 ? pattern.Length : end + 1;
            }

            // Other escapes (\x41, \u0041, \cA, \012) leave their digits to be scanned as literals: an over-count.
        }

        /// <summary>Skips a character class, including .NET's subtraction ("[a-z-[aeiou]]").</summary>
        private void SkipClass()
        {
            _pos++;
            if (_pos < pattern.Length && pattern[_pos] == '^')
            {
                _pos++;
            }

            var first = true;
            while (_pos < pattern.Length)
            {
                var c = pattern[_pos];
                if (c == '\\')
                {
                    SkipEscape();
                }
                else if (c == ']' && !first)
                {
                    _pos++;
                    return;
                }
                else if (c == '-' && _pos + 1 < pattern.Length && pattern[_pos + 1] == '[')
                {
                    _pos++;
                    SkipClass();
                }
                else
                {
                    _pos++;
                }

                first = false;
            }
        }

        /// <summary>Whether "{" at <paramref name="at"/> starts a quantifier as .NET reads it: {n}, {n,} or {n,m}.</summary>
        private bool IsQuantifier(int at)
        {
            var i = at + 1;
            var digits = 0;
            while (i < pattern.Length && char.IsAsciiDigit(pattern[i]))
            {
                i++;
                digits++;
            }

            if (digits == 0 || i >= pattern.Length)
            {
                return false;
            }

            if (pattern[i] == '}')
            {
                return true;
            }

            if (pattern[i] != ',')
            {
                return false;
            }

            i++;
            while (i < pattern.Length && char.IsAsciiDigit(pattern[i]))
            {
                i++;
            }

            return i < pattern.Length && pattern[i] == '}';
        }

        private void ReadQuantifier(out long min, out long max)
        {
            _pos++;
            min = ReadNumber();
            if (pattern[_pos] == '}')
            {
                max = min;
            }
            else
            {
                _pos++;
                max = pattern[_pos] == '}' ? -1 : ReadNumber();
            }

            _pos++;
        }

        private long ReadNumber()
        {
            long value = 0;
            while (_pos < pattern.Length && char.IsAsciiDigit(pattern[_pos]))
            {
                value = Math.Min(Saturation, (value * 10) + (pattern[_pos] - '0'));
                _pos++;
            }

            return value;
        }

        private static long Add(long a, long b) => Math.Min(Saturation, a + b);

        private static long Multiply(long a, long b) => a == 0 || b == 0 ? 0 : (a >= Saturation / b ? Saturation : a * b);
    }
}
