using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;
using PolicyEngine.Evaluation;
using Duration = PolicyEngine.Evaluation.Duration;

namespace PolicyEngine;

/// <summary>
/// Validates a policy document and builds its object model in one pass, collecting every problem with its
/// JSON Pointer. Structural rules mirror <c>schemas/policy-v*.schema.json</c>; semantic rules (regexes compile,
/// glob ties, counter clashes, operand types) are checked here too. The JSON Schema runs afterwards as a safety net.
/// </summary>
internal sealed partial class PolicyParser
{
    /// <summary>Largest accepted document, in UTF-8 bytes.</summary>
    internal const int MaxDocumentBytes = 16 * 1024 * 1024;

    /// <summary>Deepest accepted JSON nesting (objects and arrays).</summary>
    internal const int MaxDepth = 128;

    /// <summary>At most this many problems are listed; a last entry says how many more were found.</summary>
    internal const int MaxErrors = 1000;

    /// <summary>At most this many glob keys may share one literal prefix (their ties are checked pairwise).</summary>
    internal const int MaxGlobsPerPrefix = 256;

    internal const RegexOptions RegexFlags = RegexBudget.Options;

    private static readonly string[] TopKeys = ["$schema", "version", "default", "hide", "all_tools", "tools", "description"];
    private static readonly string[] V2OnlyTopKeys = ["description"];
    private static readonly string[] ToolKeysV1 = ["require", "deny_if", "limits"];
    private static readonly string[] ToolKeysV2 = ["action", "on_deny", "require", "deny_if", "args_schema", "approval", "limits", "description"];
    private static readonly string[] AllToolsKeysV2 = ["require", "deny_if", "approval", "limits"];
    private static readonly string[] ComparisonKeys = ["path", "op", "value", "on_deny", "allow_unusual_paths"];

    private static readonly string[] V2OnlyComparisonKeys = ["allow_unusual_paths"];
    private static readonly string[] CompositeKeys = ["all", "any", "not", "on_deny"];
    private static readonly string[] LimitKeysV1 = ["counter", "window", "max", "scope"];
    private static readonly string[] LimitKeysV2 = ["counter", "window", "max", "scope", "algorithm", "cost", "cost_from", "on_deny"];
    private static readonly string[] ApprovalKeys = ["when", "reason", "ttl", "approvers", "min_approvers", "on_pending", "preview", "wait"];
    private static readonly string[] V2OnlyToolKeys = ["action", "on_deny", "args_schema", "approval", "description"];
    private static readonly string[] V2OnlyLimitKeys = ["algorithm", "cost", "cost_from", "on_deny"];

    private static readonly Dictionary<string, (PredicateOperator Op, bool V2)> Operators = new(StringComparer.Ordinal)
    {
        ["eq"] = (PredicateOperator.Eq, false),
        ["neq"] = (PredicateOperator.Neq, false),
        ["in"] = (PredicateOperator.In, false),
        ["not_in"] = (PredicateOperator.NotIn, false),
        ["lt"] = (PredicateOperator.Lt, false),
        ["lte"] = (PredicateOperator.Lte, false),
        ["gt"] = (PredicateOperator.Gt, false),
        ["gte"] = (PredicateOperator.Gte, false),
        ["regex"] = (PredicateOperator.Regex, false),
        ["contains"] = (PredicateOperator.Contains, false),
        ["exists"] = (PredicateOperator.Exists, false),
        ["starts_with"] = (PredicateOperator.StartsWith, true),
        ["ends_with"] = (PredicateOperator.EndsWith, true),
        ["glob"] = (PredicateOperator.Glob, true),
        ["path_under"] = (PredicateOperator.PathUnder, true),
    };

    private readonly List<PolicyError> _errors = [];
    private readonly PointerBuilder _at = new();
    private readonly Dictionary<string, CounterDefinition> _counters = new(StringComparer.Ordinal);
    private int _droppedErrors;
    private bool _v2 = true;
    private bool _schemaCheck;

    // NonBacktracking regexes are costly to build (milliseconds, hundreds of KB); policies repeat patterns, and a
    // Regex is immutable and thread-safe, so one instance serves every predicate with the same pattern. The cache is
    // keyed by the exact pattern and options, only ever grows (nothing is evicted, so one policy cannot push out
    // another's entries; once full, new patterns are simply built uncached), and holds only patterns that passed the
    // budget. A shared instance shares its lazily built automaton too, which changes no result.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Pattern, RegexOptions Options), Regex> Regexes = new();
    private const int MaxCachedRegexes = 1024;

    /// <summary>The distinct patterns this document uses so far (regex operators and schema patterns).</summary>
    private readonly HashSet<string> _patterns = new(StringComparer.Ordinal);

    /// <summary>The parser building an <c>args_schema</c> on this thread, whose pattern count the schema keywords charge.</summary>
    [ThreadStatic]
    private static PolicyParser? t_schemaParser;

    /// <summary>
    /// Builds (or reuses) the regex for a pattern that fits <see cref="RegexBudget"/>; throws
    /// <see cref="RegexBudgetException"/> when it does not, and the engine's exceptions for a pattern it rejects.
    /// </summary>
    internal static Regex GetRegex(string pattern)
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

    /// <summary>
    /// Charges one use of <paramref name="pattern"/> against the document's distinct-pattern cap; returns the problem
    /// when the cap is exceeded. Outside a parse (a schema built elsewhere) nothing is charged.
    /// </summary>
    internal static string? ChargeSchemaPattern(string pattern) => t_schemaParser?.ChargePattern(pattern);

    private string? ChargePattern(string pattern)
    {
        if (_patterns.Contains(pattern) || _patterns.Count < RegexBudget.MaxDistinctPatterns)
        {
            _patterns.Add(pattern);
            return null;
        }

        return $"the document uses more than {RegexBudget.MaxDistinctPatterns} distinct regex patterns (regex operators and args_schema patterns together); reuse patterns or combine them";
    }

    private PolicyParser()
    {
    }

    internal static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>Parses and validates UTF-8 JSON. Never throws for any input.</summary>
    public static PolicyDocument? Parse(ReadOnlySpan<byte> utf8, out IReadOnlyList<PolicyError> errors, bool schemaCheck = false)
    {
        var parser = new PolicyParser { _schemaCheck = schemaCheck };
        var document = parser.ParseCore(utf8);
        errors = parser.Finish();
        return errors.Count == 0 ? document : null;
    }

    /// <summary>Parses and validates a .NET string. Never throws for any input.</summary>
    public static PolicyDocument? Parse(string json, out IReadOnlyList<PolicyError> errors, bool schemaCheck = false)
    {
        ArgumentNullException.ThrowIfNull(json);

        // Check the size before transcoding so a hostile 1 GB string costs one pass, not a 3 GB buffer.
        if ((long)json.Length > MaxDocumentBytes)
        {
            errors = [TooLarge(json.Length)];
            return null;
        }

        byte[] utf8;
        try
        {
            utf8 = StrictUtf8.GetBytes(json);
        }
        catch (EncoderFallbackException ex)
        {
            errors = [new PolicyError(string.Empty, $"the document is not valid text: a lone surrogate at character {ex.Index}")];
            return null;
        }

        return Parse(utf8, out errors, schemaCheck);
    }

    /// <summary>UTF-8 that refuses lone surrogates instead of replacing them.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static PolicyError TooLarge(long size) =>
        new(string.Empty, $"the document is too large ({size} bytes); the limit is {MaxDocumentBytes} bytes");

    private IReadOnlyList<PolicyError> Finish()
    {
        if (_droppedErrors > 0)
        {
            _errors.Add(new PolicyError(string.Empty, $"{_droppedErrors} more problems were found and not listed"));
        }

        return _errors;
    }

    private PolicyDocument? ParseCore(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxDocumentBytes)
        {
            _errors.Add(TooLarge(utf8.Length));
            return null;
        }

        // A UTF-8 byte order mark is not JSON, but editors write one; tolerate it.
        var bom = utf8.StartsWith("\uFEFF"u8) ? 3 : 0;
        utf8 = utf8[bom..];

        if (!Utf8.IsValid(utf8))
        {
            // Offsets count from the start of the caller's input, byte order mark included.
            Error(string.Empty, $"the document is not valid UTF-8 (first bad byte at offset {bom + FirstInvalidUtf8Byte(utf8)})");
            return null;
        }

        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            using var parsed = JsonDocument.ParseValue(ref reader);
            root = parsed.RootElement.Clone();
            if (reader.Read())
            {
                Error(string.Empty, $"unexpected content after the document at byte {reader.TokenStartIndex}");
                return null;
            }
        }
        catch (JsonException ex)
        {
            Error(string.Empty, DescribeJsonError(ex));
            return null;
        }

        try
        {
            return ReadDocument(root);
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json accepts an escaped lone surrogate ("\ud800") but refuses to turn it into a string.
            Error(string.Empty, "the document contains a string or key that is not valid Unicode (an escaped lone surrogate such as \"\\ud800\")");
            return null;
        }
    }

    private static long FirstInvalidUtf8Byte(ReadOnlySpan<byte> utf8)
    {
        Span<char> scratch = stackalloc char[512];
        long offset = 0;
        while (!utf8.IsEmpty)
        {
            var status = Utf8.ToUtf16(utf8, scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            if (status is System.Buffers.OperationStatus.InvalidData or System.Buffers.OperationStatus.NeedMoreData)
            {
                return offset + read;
            }

            offset += read;
            utf8 = utf8[read..];
            if (status == System.Buffers.OperationStatus.Done)
            {
                break;
            }
        }

        return offset;
    }

    private static string DescribeJsonError(JsonException ex)
    {
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        }

        if (cut > 0)
        {
            message = message[..cut];
        }

        message = message.TrimEnd(' ', '|', '.');
        var where = ex.LineNumber is { } line
            ? $" at line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}"
            : string.Empty;
        return $"the document is not valid JSON{where}: {message} (comments, trailing commas and NaN are not allowed; nesting is limited to {MaxDepth} levels)";
    }

    // ---------------------------------------------------------------- errors

    private void Error(string pointer, string message)
    {
        if (_errors.Count >= MaxErrors)
        {
            _droppedErrors++;
            return;
        }

        _errors.Add(new PolicyError(pointer, message));
    }

    private void ErrorHere(string message) => Error(_at.Current, message);

    private void ErrorAt(string key, string message) => Error(_at.With(key), message);

    private static string Quote(string text)
    {
        const int Max = 80;
        var shown = text.Length > Max ? string.Concat(text.AsSpan(0, Max), "…") : text;
        return JsonSerializer.Serialize(shown);
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string OneOf(string[] names) => string.Join(", ", names.Select(n => "\"" + n + "\""));

    // ---------------------------------------------------------------- objects

    /// <summary>
    /// Reads an object's properties into <paramref name="values"/> (indexed like <paramref name="known"/>),
    /// reporting unknown and duplicate keys. Returns false (and reports) when the element is not an object.
    /// </summary>
    private bool ReadObject(JsonElement element, string what, string[] known, JsonElement?[] values, string[]? v2Only = null)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"{what} must be an object, not {KindName(element.ValueKind)}");
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            var index = Array.IndexOf(known, property.Name);
            if (index < 0)
            {
                ErrorAt(property.Name, $"unknown key {Quote(property.Name)} in {what}; expected one of {OneOf(known)}{Suggest(property.Name, known)}");
                CheckValueTree(property.Value, property.Name);
                continue;
            }

            if (values[index] is not null)
            {
                ErrorAt(property.Name, $"duplicate key {Quote(property.Name)}: a key may appear only once in an object");
                continue;
            }

            if (!_v2 && v2Only is not null && Array.IndexOf(v2Only, property.Name) >= 0)
            {
                ErrorAt(property.Name, $"{Quote(property.Name)} needs version \"2\"; change \"version\" to \"2\" to use it");
            }

            values[index] = property.Value;
        }

        return true;
    }

    private static string Suggest(string name, string[] known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance(name, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        return best is not null && bestDistance <= Math.Max(1, best.Length / 3) ? $" (did you mean \"{best}\"?)" : string.Empty;
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// Walks a free-form value (an operand, an args_schema, an unknown key's value) only to reject duplicate keys:
    /// the document must not mean two things.
    /// </summary>
    private void CheckValueTree(JsonElement element, string segment)
    {
        _at.Push(segment);
        CheckValueTree(element);
        _at.Pop();
    }

    private void CheckValueTree(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? seen = null;
                foreach (var property in element.EnumerateObject())
                {
                    seen ??= new HashSet<string>(StringComparer.Ordinal);
                    if (!seen.Add(property.Name))
                    {
                        ErrorAt(property.Name, $"duplicate key {Quote(property.Name)}: a key may appear only once in an object");
                    }

                    CheckValueTree(property.Value, property.Name);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    _at.Push(index++);
                    CheckValueTree(item);
                    _at.Pop();
                }

                break;
        }
    }

    private string? ReadString(JsonElement? element, string key, bool required, string what, bool nonEmpty = true)
    {
        if (element is not { } value)
        {
            if (required)
            {
                ErrorHere($"{what} is missing the required key {Quote(key)}");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            ErrorAt(key, $"{Quote(key)} must be a string, not {KindName(value.ValueKind)}");
            return null;
        }

        var text = value.GetString()!;
        if (nonEmpty && text.Length == 0)
        {
            ErrorAt(key, $"{Quote(key)} must not be empty");
            return null;
        }

        return text;
    }

    private long? ReadPositiveInteger(JsonElement? element, string key, bool required, string what)
    {
        if (element is not { } value)
        {
            if (required)
            {
                ErrorHere($"{what} is missing the required key {Quote(key)}");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            ErrorAt(key, $"{Quote(key)} must be an integer of at least 1, not {KindName(value.ValueKind)}");
            return null;
        }

        if (value.TryGetInt64(out var whole))
        {
            if (whole >= 1)
            {
                return whole;
            }
        }
        else if (value.TryGetDecimal(out var number) && number == decimal.Truncate(number)
                 && number >= 1 && number <= long.MaxValue && HasNoExcessPrecision(value))
        {
            return (long)number;
        }
        else if (value.TryGetDouble(out var big) && big > long.MaxValue)
        {
            ErrorAt(key, $"{Quote(key)} is too large; the largest allowed value is {long.MaxValue}");
            return null;
        }

        ErrorAt(key, $"{Quote(key)} must be an integer (a whole number) of at least 1, not {Truncate(value.GetRawText())}");
        return null;
    }

    // decimal parsing rounds beyond 28 digits; an integer that only looks whole after rounding is not whole.
    private static bool HasNoExcessPrecision(JsonElement value) => value.GetRawText().Length <= 28;
}
