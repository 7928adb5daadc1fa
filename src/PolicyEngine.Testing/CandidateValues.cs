using System.Globalization;
using System.Text.Json;

namespace PolicyEngine.Testing;

/// <summary>
/// JSON values (as text) at and around a predicate's boundary: the operand itself, its neighbours, values of other
/// JSON types, <c>null</c>, and for each operator the values that flip it. "Absent" is the generators' business.
/// </summary>
internal static class CandidateValues
{
    /// <summary>Numbers no policy bound is likely to reach, and the texts that overflow a double or a decimal.</summary>
    private static readonly string[] Huge = ["1e308", "-1e308", "99999999999999999999999999999999", "9223372036854775808"];

    public static List<string> For(ComparisonPredicate predicate)
    {
        var values = new List<string>();
        var operand = predicate.Value;
        switch (predicate.Operator)
        {
            case PredicateOperator.Eq or PredicateOperator.Neq:
                Near(operand, values);
                break;
            case PredicateOperator.In or PredicateOperator.NotIn:
                if (operand.ValueKind == JsonValueKind.Array)
                {
                    // Every element (twice, so members are as likely as misses), and near misses of the first few.
                    var index = 0;
                    foreach (var item in operand.EnumerateArray())
                    {
                        values.Add(item.GetRawText());
                        values.Add(item.GetRawText());
                        if (index++ < 2)
                        {
                            Near(item, values);
                        }
                    }
                }

                values.Add("\"zz-not-listed\"");
                values.Add("-1");
                break;
            case PredicateOperator.Lt or PredicateOperator.Lte or PredicateOperator.Gt or PredicateOperator.Gte:
                Numbers(operand, values);
                values.Add(JsonText.Quote(operand.GetRawText()));
                values.AddRange(Huge);
                values.Add("true");
                break;
            case PredicateOperator.Regex when operand.ValueKind == JsonValueKind.String:
                var pattern = operand.GetString()!;
                foreach (var example in RegexExamples.For(pattern))
                {
                    values.Add(JsonText.Quote(example));
                    values.Add(JsonText.Quote("x" + example + "x"));
                    if (example.Length > 0)
                    {
                        values.Add(JsonText.Quote(Flip(example[0]) + example[1..]));
                    }
                }

                values.Add("\"\"");
                values.Add("\"-\"");
                values.Add("123");
                break;
            case PredicateOperator.Contains:
                if (operand.ValueKind == JsonValueKind.String)
                {
                    var s = operand.GetString()!;
                    values.Add(JsonText.Quote(s));
                    values.Add(JsonText.Quote("x" + s + "y"));
                    values.Add(JsonText.Quote(s.Length > 0 ? s[..^1] : "x"));
                    values.Add("\"\"");
                }

                values.Add("[" + operand.GetRawText() + "]");
                values.Add("[\"x\"," + operand.GetRawText() + "]");
                values.Add("[]");
                values.Add("[\"zz\"]");
                values.Add(operand.GetRawText());
                break;
            case PredicateOperator.Exists:
                values.Add("true");
                values.Add("\"x\"");
                values.Add("0");
                break;
            case PredicateOperator.StartsWith or PredicateOperator.EndsWith when operand.ValueKind == JsonValueKind.String:
                var text = operand.GetString()!;
                values.Add(JsonText.Quote(text));
                values.Add(JsonText.Quote(text + "x"));
                values.Add(JsonText.Quote("x" + text));
                if (text.Length > 0)
                {
                    values.Add(JsonText.Quote(text[..^1]));
                    values.Add(JsonText.Quote(text[1..]));
                }

                values.Add("\"\"");
                break;
            case PredicateOperator.Glob when operand.ValueKind == JsonValueKind.String:
                var glob = operand.GetString()!;
                foreach (var fill in GlobFills(glob))
                {
                    values.Add(JsonText.Quote(fill));
                    values.Add(JsonText.Quote(fill.Length > 0 ? Flip(fill[0]) + fill[1..] : "x"));
                }

                values.Add("\"\"");
                break;
            case PredicateOperator.PathUnder when operand.ValueKind == JsonValueKind.String:
                foreach (var path in EscapingPaths(operand.GetString()!))
                {
                    values.Add(JsonText.Quote(path));
                }

                break;
            default:
                values.Add(operand.GetRawText());
                break;
        }

        // Cutting text next to an emoji can leave a lone surrogate, which no JSON reader accepts: drop those.
        return values.FindAll(IsValidJson);
    }

    private static bool IsValidJson(string json)
    {
        try
        {
            using var _ = JsonDocument.Parse(json);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Values of other types than most operands, tried on every path: null (which counts as absent), a string, an object, a boolean, zero.</summary>
    public static string[] OffType { get; } = ["null", "\"text\"", "{}", "true", "0"];

    /// <summary>Amounts for <c>cost_from</c>: zero, one, the maximum and just above, and every invalid form.</summary>
    public static List<string> ForCost(long max) =>
        ["0", "1", "2", Str(max), Str(max == long.MaxValue ? max : max + 1), Str(Math.Max(1, max / 2)), "-1", "1.5", "\"5\"", "null", "1e400"];

    /// <summary>Keys for <c>scope: "args.…"</c> counters: a few shared values and odd types.</summary>
    public static List<string> ForScopeKey() => ["\"k1\"", "\"k1\"", "\"k2\"", "1", "null"];

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static char Flip(char c) => c == 'q' ? 'Q' : 'q';

    /// <summary>The value, values next to it, and the same value as another JSON type.</summary>
    private static void Near(JsonElement value, List<string> values)
    {
        values.Add(value.GetRawText());
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                Numbers(value, values);
                values.Add(JsonText.Quote(value.GetRawText()));
                break;
            case JsonValueKind.String:
                var s = value.GetString()!;
                values.Add(JsonText.Quote(s + "x"));
                values.Add(JsonText.Quote("x" + s));
                values.Add("\"\"");
                if (s.Length > 0)
                {
                    values.Add(JsonText.Quote(s[..^1]));
                }

                if (s.ToUpperInvariant() != s)
                {
                    values.Add(JsonText.Quote(s.ToUpperInvariant()));
                }

                if (decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    values.Add(number.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case JsonValueKind.True or JsonValueKind.False:
                values.Add("true");
                values.Add("false");
                values.Add(value.ValueKind == JsonValueKind.True ? "\"true\"" : "0");
                break;
            case JsonValueKind.Null:
                values.Add("0");
                values.Add("\"\"");
                values.Add("false");
                break;
            case JsonValueKind.Array:
                values.Add("[]");
                var length = value.GetArrayLength();
                if (length > 0)
                {
                    values.Add(value[0].GetRawText());
                    values.Add("[" + value[0].GetRawText() + "]");
                }

                values.Add(length == 0 ? "[null]" : "[" + string.Join(",", value.EnumerateArray().Select(e => e.GetRawText())) + ",0]");
                break;
            case JsonValueKind.Object:
                values.Add("{}");
                values.Add("{\"zz\":0}");
                break;
        }
    }

    /// <summary>The number, one below and one above, halfway neighbours, and the same number written differently.</summary>
    private static void Numbers(JsonElement value, List<string> values)
    {
        if (value.ValueKind != JsonValueKind.Number)
        {
            values.Add("0");
            return;
        }

        var raw = value.GetRawText();
        values.Add(raw);
        if (decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            foreach (var neighbour in new[] { d - 1, d, d + 1, d - 0.5m, d + 0.5m })
            {
                values.Add(neighbour.ToString(CultureInfo.InvariantCulture));
            }

            values.Add(d.ToString(CultureInfo.InvariantCulture) + (d == decimal.Truncate(d) ? ".0" : "0"));
            values.Add(d == 0 ? "-0" : (-d).ToString(CultureInfo.InvariantCulture));
            return;
        }

        // Beyond decimal (1e400, 1e-400): move the exponent both ways.
        var e = raw.IndexOfAny(['e', 'E']);
        if (e > 0 && int.TryParse(raw[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var exponent))
        {
            var mantissa = raw[..e];
            values.Add(mantissa + "e" + (exponent + 1).ToString(CultureInfo.InvariantCulture));
            values.Add(mantissa + "e" + (exponent - 1).ToString(CultureInfo.InvariantCulture));
            values.Add("-" + mantissa.TrimStart('-') + "e" + (exponent + 1).ToString(CultureInfo.InvariantCulture));
        }

        values.Add("0");
    }

    /// <summary>Strings a glob matches: each <c>*</c> filled with nothing, a letter or a separator, each <c>?</c> with a letter.</summary>
    internal static IEnumerable<string> GlobFills(string glob)
    {
        yield return glob.Replace("*", string.Empty, StringComparison.Ordinal).Replace('?', 'x');
        yield return glob.Replace("*", "x", StringComparison.Ordinal).Replace('?', 'a');
        yield return glob.Replace("*", "a/b", StringComparison.Ordinal).Replace('?', '/');
    }

    /// <summary>
    /// Paths at, inside, and trying to escape a directory: <c>..</c>, <c>.</c>, doubled and trailing separators,
    /// backslashes, a sibling sharing the prefix, the parent, relative paths, and climbing above the root.
    /// </summary>
    internal static IEnumerable<string> EscapingPaths(string directory)
    {
        var sep = directory.Contains('\\', StringComparison.Ordinal) && !directory.Contains('/', StringComparison.Ordinal) ? '\\' : '/';
        var other = sep == '/' ? '\\' : '/';
        var d = directory.Length > 1 ? directory.TrimEnd('/', '\\') : directory;
        if (d.Length == 0)
        {
            d = directory;
        }

        var s = sep.ToString();
        string Join(params string[] parts) => d.EndsWith(sep) ? d + string.Join(s, parts) : d + s + string.Join(s, parts);

        yield return d;
        yield return d + s;
        yield return Join("file.txt");
        yield return Join("sub", "file.txt");
        yield return Join("..", "etc", "passwd");
        yield return Join(".", "x");
        yield return Join("a", "..", "x");
        yield return Join("a", "..", "..", "x");
        yield return Join("..");
        yield return Join(string.Empty, "x");
        yield return d + s + s + "x";
        yield return d.Replace(sep, other) + other + "x";
        yield return Join("x").Replace(sep, other);
        yield return d + "-sibling" + s + "x";
        yield return d + "x";
        var parent = d.LastIndexOf(sep);
        yield return parent > 0 ? d[..parent] : s;
        yield return s + ".." + s + d.TrimStart(sep);
        yield return "relative" + s + "x";
        yield return d.TrimStart(sep);
        yield return "x";
    }
}
