using System.Text;

namespace PolicyEngine.Testing;

/// <summary>
/// Builds strings that a regex is likely to match, by walking the pattern: literals, escapes, classes, groups,
/// alternation and quantifiers. Best effort: the evaluator decides what really matches; these only aim near it.
/// </summary>
internal static class RegexExamples
{
    public static IEnumerable<string> For(string pattern)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var variant = 0; variant < 6; variant++)
        {
            string? example;
            try
            {
                example = new Walker(pattern, variant).Run();
            }
            catch (Exception ex) when (ex is IndexOutOfRangeException or ArgumentOutOfRangeException or FormatException)
            {
                example = null;
            }

            if (example is not null && seen.Add(example))
            {
                yield return example;
            }
        }
    }

    private sealed class Walker(string pattern, int variant)
    {
        private readonly Random _random = new(variant * 7919 + 17);
        private int _pos;

        public string? Run()
        {
            var text = new StringBuilder();
            Alternation(text);
            return _pos == pattern.Length ? text.ToString() : null;
        }

        private void Alternation(StringBuilder text)
        {
            var alternatives = new List<StringBuilder>();
            var current = new StringBuilder();
            alternatives.Add(current);
            while (_pos < pattern.Length && pattern[_pos] != ')')
            {
                if (pattern[_pos] == '|')
                {
                    _pos++;
                    current = new StringBuilder();
                    alternatives.Add(current);
                    continue;
                }

                Piece(current);
            }

            var pick = variant == 0 ? 0 : _random.Next(alternatives.Count);
            text.Append(alternatives[pick]);
        }

        private void Piece(StringBuilder text)
        {
            var start = text.Length;
            Atom(text);
            var atom = text.ToString(start, text.Length - start);
            if (_pos >= pattern.Length)
            {
                return;
            }

            int min, max;
            switch (pattern[_pos])
            {
                case '*':
                    (min, max) = (0, 3);
                    _pos++;
                    break;
                case '+':
                    (min, max) = (1, 3);
                    _pos++;
                    break;
                case '?':
                    (min, max) = (0, 1);
                    _pos++;
                    break;
                case '{' when pattern.IndexOf('}', _pos) is var close and > 0 && IsCount(pattern.AsSpan(_pos + 1, close - _pos - 1)):
                    var body = pattern[(_pos + 1)..close].Split(',');
                    min = int.Parse(body[0], System.Globalization.CultureInfo.InvariantCulture);
                    max = body.Length == 1 ? min : body[1].Length == 0 ? min + 2 : int.Parse(body[1], System.Globalization.CultureInfo.InvariantCulture);
                    _pos = close + 1;
                    break;
                default:
                    return;
            }

            if (_pos < pattern.Length && pattern[_pos] is '?' or '+')
            {
                _pos++; // lazy or possessive
            }

            var count = variant switch
            {
                0 => Math.Max(min, 1),
                1 => min,
                _ => _random.Next(min, Math.Min(max, min + 3) + 1),
            };
            count = Math.Min(Math.Max(count, min), Math.Max(max, min));
            text.Length = start;
            for (var i = 0; i < count && text.Length < 200; i++)
            {
                text.Append(atom);
            }
        }

        private static bool IsCount(ReadOnlySpan<char> body)
        {
            if (body.IsEmpty || !char.IsAsciiDigit(body[0]))
            {
                return false;
            }

            foreach (var c in body)
            {
                if (!char.IsAsciiDigit(c) && c != ',')
                {
                    return false;
                }
            }

            return true;
        }

        private void Atom(StringBuilder text)
        {
            var c = pattern[_pos++];
            switch (c)
            {
                case '(':
                    if (_pos < pattern.Length && pattern[_pos] == '?')
                    {
                        // (?:...), (?<name>...), (?i) and lookarounds: skip the marker, keep the body.
                        _pos++;
                        if (_pos < pattern.Length && pattern[_pos] == '<' && _pos + 1 < pattern.Length && pattern[_pos + 1] is not ('=' or '!'))
                        {
                            _pos = pattern.IndexOf('>', _pos) + 1;
                        }
                        else
                        {
                            while (_pos < pattern.Length && pattern[_pos] is ':' or '=' or '!' or '<' or 'i' or 'm' or 's' or 'x' or 'n' or '-')
                            {
                                _pos++;
                            }
                        }
                    }

                    var inner = new StringBuilder();
                    Alternation(inner);
                    _pos++; // ')'
                    text.Append(inner);
                    break;
                case '[':
                    text.Append(Class());
                    break;
                case '\\':
                    text.Append(Escape(pattern[_pos++]));
                    break;
                case '.':
                    text.Append(variant % 2 == 0 ? 'a' : '7');
                    break;
                case '^' or '$':
                    break;
                default:
                    text.Append(c);
                    if (char.IsHighSurrogate(c) && _pos < pattern.Length)
                    {
                        text.Append(pattern[_pos++]);
                    }

                    break;
            }
        }

        private string Escape(char c) => c switch
        {
            'd' => variant % 2 == 0 ? "0" : "7",
            'D' or 'w' or 'S' => variant % 2 == 0 ? "a" : "Z",
            'W' => "-",
            's' => " ",
            'b' or 'B' or 'A' or 'z' or 'Z' or 'G' => string.Empty,
            'n' => "\n",
            't' => "\t",
            'r' => "\r",
            _ => c.ToString(),
        };

        private string Class()
        {
            var negated = _pos < pattern.Length && pattern[_pos] == '^';
            if (negated)
            {
                _pos++;
            }

            var members = new List<(char From, char To)>();
            var first = true;
            while (_pos < pattern.Length && (pattern[_pos] != ']' || first))
            {
                first = false;
                var c = pattern[_pos++];
                if (c == '\\' && _pos < pattern.Length)
                {
                    var e = Escape(pattern[_pos++]);
                    c = e.Length > 0 ? e[0] : 'a';
                }

                if (_pos + 1 < pattern.Length && pattern[_pos] == '-' && pattern[_pos + 1] != ']')
                {
                    var to = pattern[_pos + 1];
                    _pos += 2;
                    members.Add((c, to));
                }
                else
                {
                    members.Add((c, c));
                }
            }

            _pos++; // ']'
            if (!negated)
            {
                if (members.Count == 0)
                {
                    return "a";
                }

                var (from, upTo) = members[variant == 0 ? 0 : _random.Next(members.Count)];
                return ((char)(variant < 2 ? from : _random.Next(from, upTo + 1))).ToString();
            }

            foreach (var candidate in "aZ0_ -.~")
            {
                if (!members.Exists(m => candidate >= m.From && candidate <= m.To))
                {
                    return candidate.ToString();
                }
            }

            return "\u00e9";
        }
    }
}
