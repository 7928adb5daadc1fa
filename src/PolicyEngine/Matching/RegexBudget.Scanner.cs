using System.Text.RegularExpressions;

namespace PolicyEngine.Matching;

// The regex budget, its scanner: one pass over the pattern, measuring what its counted repetitions expand to.
internal static partial class RegexBudget
{
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
