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
internal sealed class PolicyParser
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
    private static readonly string[] ApprovalKeys = ["when", "reason", "ttl"];
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

    // ---------------------------------------------------------------- document

    private PolicyDocument? ReadDocument(JsonElement root)
    {
        var values = new JsonElement?[TopKeys.Length];
        if (root.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"a policy document must be a JSON object, not {KindName(root.ValueKind)}");
            return null;
        }

        // The version decides which rules apply, so read it before anything else.
        string? version = null;
        var versionCount = 0;
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("version"))
            {
                versionCount++;
                if (versionCount == 1 && property.Value.ValueKind == JsonValueKind.String)
                {
                    version = property.Value.GetString();
                }
            }
        }

        _v2 = version != "1";
        ReadObject(root, "the policy document", TopKeys, values, V2OnlyTopKeys);

        var schema = ReadString(values[0], "$schema", required: false, "the policy document", nonEmpty: false);

        if (values[1] is not { } versionElement)
        {
            ErrorHere("the policy document is missing the required key \"version\"; add \"version\": \"2\" (or \"1\" for PolicyLayer documents)");
        }
        else if (versionElement.ValueKind != JsonValueKind.String)
        {
            ErrorAt("version", $"\"version\" must be a string such as \"2\", not {KindName(versionElement.ValueKind)} {Truncate(versionElement.GetRawText())}");
        }
        else if (version is not ("1" or "2"))
        {
            ErrorAt("version", $"unsupported version {Quote(version ?? string.Empty)}; this parser knows versions \"1\" and \"2\"");
        }

        var defaultAction = DefaultAction.Deny;
        if (values[2] is not { } defaultElement)
        {
            ErrorHere("the policy document is missing the required key \"default\"; add \"default\": \"deny\" or \"default\": \"allow\"");
        }
        else if (defaultElement.ValueKind != JsonValueKind.String || defaultElement.GetString() is not ("allow" or "deny"))
        {
            ErrorAt("default", $"\"default\" must be \"allow\" or \"deny\", not {Truncate(defaultElement.GetRawText())}");
        }
        else
        {
            defaultAction = defaultElement.ValueEquals("allow") ? DefaultAction.Allow : DefaultAction.Deny;
        }

        var hide = values[3] is { } hideElement ? ReadHide(hideElement) : null;
        var description = ReadString(values[6], "description", required: false, "the policy document", nonEmpty: false);

        ToolPolicy? allTools = null;
        if (values[4] is { } allToolsElement)
        {
            _at.Push("all_tools");
            allTools = ReadToolPolicy(allToolsElement, name: null);
            _at.Pop();
        }

        List<ToolPolicy>? tools = null;
        if (values[5] is { } toolsElement)
        {
            _at.Push("tools");
            tools = ReadTools(toolsElement);
            _at.Pop();
        }

        if (_errors.Count > 0 || _droppedErrors > 0)
        {
            return null;
        }

        // The hand-written checks above give precise messages and are tested to agree with the published schema on
        // the corpus and on generated documents. Evaluating the schema as well costs ~50 µs per predicate, so it runs
        // only where thoroughness beats speed (`policyengine validate`).
        if (_schemaCheck)
        {
            foreach (var error in PolicySchemas.Validate(root, version!))
            {
                Error(error.Pointer, error.Message);
            }
        }

        if (_errors.Count > 0)
        {
            return null;
        }

        return new PolicyDocument(version!, defaultAction, schema, hide, allTools, tools ?? [], description);
    }

    private static string Truncate(string raw) => raw.Length > 80 ? string.Concat(raw.AsSpan(0, 80), "…") : raw;

    private List<string>? ReadHide(JsonElement element)
    {
        _at.Push("hide");
        try
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                ErrorHere($"\"hide\" must be an array of tool names, not {KindName(element.ValueKind)}");
                return null;
            }

            var names = new List<string>(element.GetArrayLength());
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                _at.Push(index++);
                if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } name)
                {
                    ErrorHere($"a \"hide\" entry must be a non-empty string (a tool name), not {Truncate(item.GetRawText())}");
                }
                else if (!_v2 && name != "*" && Glob.HasWildcard(name))
                {
                    ErrorHere($"the hide entry {Quote(name)} is a glob, which needs version \"2\" (version \"1\" allows only \"*\")");
                }
                else
                {
                    names.Add(name);
                }

                _at.Pop();
            }

            return names;
        }
        finally
        {
            _at.Pop();
        }
    }

    private List<ToolPolicy>? ReadTools(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"\"tools\" must be an object mapping tool names to rules, not {KindName(element.ValueKind)}");
            return null;
        }

        var tools = new List<ToolPolicy>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? globs = null;
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (!seen.Add(name))
            {
                ErrorAt(name, $"duplicate tool {Quote(name)}: a key may appear only once in an object");
                continue;
            }

            if (name.Length == 0)
            {
                ErrorAt(name, "a tool name must not be empty");
                continue;
            }

            if (Glob.HasWildcard(name))
            {
                if (!_v2)
                {
                    ErrorAt(name, $"the tool key {Quote(name)} is a glob, which needs version \"2\"");
                    continue;
                }

                (globs ??= []).Add(name);
            }

            _at.Push(name);
            var tool = ReadToolPolicy(property.Value, name);
            _at.Pop();
            if (tool is not null)
            {
                tools.Add(tool);
            }
        }

        if (globs is not null)
        {
            CheckGlobTies(globs);
        }

        return tools;
    }

    /// <summary>
    /// Two globs tie when their literal prefixes have the same length and some tool name matches both: neither is
    /// more specific, so which applies would be arbitrary. Equal-length prefixes of a common name are equal strings,
    /// so only globs with the same literal prefix need comparing.
    /// </summary>
    private void CheckGlobTies(List<string> globs)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var glob in globs)
        {
            var prefix = glob[..Glob.LiteralPrefixLength(glob)];
            if (!groups.TryGetValue(prefix, out var group))
            {
                groups[prefix] = group = [];
            }

            group.Add(glob);
        }

        foreach (var (prefix, group) in groups)
        {
            if (group.Count > MaxGlobsPerPrefix)
            {
                Error("/tools", $"{group.Count} glob keys share the literal prefix {Quote(prefix)}; at most {MaxGlobsPerPrefix} may, so that ties can be checked");
                continue;
            }

            for (var j = 1; j < group.Count; j++)
            {
                for (var i = 0; i < j; i++)
                {
                    if (Glob.Intersects(group[i], group[j]))
                    {
                        Error("/tools/" + PointerBuilder.Escape(group[j]),
                            $"the tool globs {Quote(group[i])} and {Quote(group[j])} tie: some tool name matches both and neither has a longer literal prefix; make one more specific or list the tool by name");
                        break;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- tool entries

    private ToolPolicy? ReadToolPolicy(JsonElement element, string? name)
    {
        var isAllTools = name is null;
        var what = isAllTools ? "\"all_tools\"" : $"the tool entry {Quote(name!)}";
        var known = !_v2 ? ToolKeysV1 : isAllTools ? AllToolsKeysV2 : ToolKeysV2;

        // In version 1, report version-2 keys as "needs version 2" rather than as plain unknown keys.
        var readKeys = _v2 ? known : isAllTools ? AllToolsKeysV2 : ToolKeysV2;
        var values = new JsonElement?[readKeys.Length];
        if (!ReadObject(element, what, readKeys, values, V2OnlyToolKeys))
        {
            return null;
        }

        JsonElement? Get(string key)
        {
            var index = Array.IndexOf(readKeys, key);
            return index < 0 ? null : values[index];
        }

        ToolAction? action = null;
        if (Get("action") is { } actionElement)
        {
            if (actionElement.ValueKind == JsonValueKind.String && actionElement.ValueEquals("deny"))
            {
                action = ToolAction.Deny;
            }
            else if (actionElement.ValueKind == JsonValueKind.String && actionElement.ValueEquals("allow"))
            {
                action = ToolAction.Allow;
            }
            else
            {
                ErrorAt("action", $"\"action\" must be \"allow\" or \"deny\", not {Truncate(actionElement.GetRawText())}");
            }
        }

        var onDeny = ReadString(Get("on_deny"), "on_deny", required: false, what, nonEmpty: false);
        if (onDeny is not null && action != ToolAction.Deny)
        {
            ErrorAt("on_deny", $"\"on_deny\" on a tool entry is the reason for \"action\": \"deny\"; add \"action\": \"deny\" or move the reason to a predicate");
        }

        var require = ReadPredicateList(Get("require"), "require");
        var denyIf = ReadPredicateList(Get("deny_if"), "deny_if");

        JsonElement? argsSchema = null;
        JsonSchema? compiledSchema = null;
        if (Get("args_schema") is { } schemaElement)
        {
            argsSchema = schemaElement;
            compiledSchema = ReadArgsSchema(schemaElement);
        }

        ApprovalRule? approval = null;
        if (Get("approval") is { } approvalElement)
        {
            _at.Push("approval");
            approval = ReadApproval(approvalElement);
            _at.Pop();
        }

        IReadOnlyList<LimitRule>? limits = null;
        if (Get("limits") is { } limitsElement)
        {
            _at.Push("limits");
            limits = ReadLimits(limitsElement, isAllTools);
            _at.Pop();
        }

        var description = ReadString(Get("description"), "description", required: false, what, nonEmpty: false);
        return new ToolPolicy(name, action, onDeny, require, denyIf, argsSchema, compiledSchema, approval, limits, description);
    }

    private JsonSchema? ReadArgsSchema(JsonElement element)
    {
        _at.Push("args_schema");
        try
        {
            CheckValueTree(element);
            if (element.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            {
                ErrorHere($"\"args_schema\" must be a JSON Schema (an object or a boolean), not {KindName(element.ValueKind)}");
                return null;
            }

            try
            {
                // Each schema gets its own registry: a repeated $id across tools must not clash. Its pattern keywords
                // run on the linear-time engine within the regex budget, charged to this document.
                t_schemaParser = this;
                try
                {
                    var schema = SchemaRegexes.Build(element);
                    if (SchemaRegexes.FindUnboundedPattern(schema) is { } location)
                    {
                        ErrorHere($"\"args_schema\" (at {location}) selects a JSON Schema dialect (\"$schema\") whose pattern keywords would run on a backtracking regex engine; remove \"$schema\" (args_schema is JSON Schema 2020-12)");
                        return null;
                    }

                    return schema;
                }
                finally
                {
                    t_schemaParser = null;
                }
            }
            catch (Exception ex) when (FindBudgetProblem(ex) is { } budget)
            {
                ErrorHere($"\"args_schema\" has a pattern the engine cannot evaluate within its budget: {budget.Message}");
                return null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ErrorHere($"\"args_schema\" is not a valid JSON Schema: {ex.Message}");
                return null;
            }
        }
        finally
        {
            _at.Pop();
        }
    }

    private static RegexBudgetException? FindBudgetProblem(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is RegexBudgetException budget)
            {
                return budget;
            }
        }

        return null;
    }

    private ApprovalRule? ReadApproval(JsonElement element)
    {
        var values = new JsonElement?[ApprovalKeys.Length];
        if (!ReadObject(element, "\"approval\"", ApprovalKeys, values))
        {
            return null;
        }

        var when = ReadPredicateList(values[0], "when");
        var reason = ReadString(values[1], "reason", required: true, "\"approval\"");
        var ttl = ReadString(values[2], "ttl", required: false, "\"approval\"");
        var timeToLive = ApprovalRule.DefaultTimeToLive;
        if (ttl is not null && !Duration.TryParse(ttl, out timeToLive))
        {
            ErrorAt("ttl", $"\"ttl\" {Quote(ttl)} is not a duration; write a whole number followed by s, m, h or d, such as \"15m\"");
            ttl = null;
        }

        return reason is null ? null : new ApprovalRule(when, reason, ttl, timeToLive);
    }

    // ---------------------------------------------------------------- predicates

    private IReadOnlyList<PolicyPredicate>? ReadPredicateList(JsonElement? element, string key)
    {
        if (element is not { } list)
        {
            return null;
        }

        _at.Push(key);
        try
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                ErrorHere($"{Quote(key)} must be an array of predicates, not {KindName(list.ValueKind)}");
                return null;
            }

            var predicates = new List<PolicyPredicate>(list.GetArrayLength());
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                _at.Push(index++);
                if (ReadPredicate(item) is { } predicate)
                {
                    predicates.Add(predicate);
                }

                _at.Pop();
            }

            return predicates;
        }
        finally
        {
            _at.Pop();
        }
    }

    private PolicyPredicate? ReadPredicate(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"a predicate must be an object such as {{ \"path\": \"args.x\", \"op\": \"eq\", \"value\": 1 }}, not {KindName(element.ValueKind)}");
            return null;
        }

        var composite = false;
        var comparison = false;
        foreach (var property in element.EnumerateObject())
        {
            composite |= property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not");
            comparison |= property.NameEquals("path") || property.NameEquals("op") || property.NameEquals("value");
        }

        if (composite && !_v2)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                {
                    ErrorAt(property.Name, $"the composite predicate {Quote(property.Name)} needs version \"2\"");
                }
            }

            return null;
        }

        if (composite)
        {
            if (comparison)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                    {
                        ErrorAt(property.Name, $"a predicate is either a comparison (\"path\", \"op\", \"value\") or a composite, not both: move {Quote(property.Name)} to its own predicate or nest the comparison inside it");
                    }
                }

                return null;
            }

            return ReadComposite(element);
        }

        return ReadComparison(element);
    }

    private CompositePredicate? ReadComposite(JsonElement element)
    {
        var values = new JsonElement?[CompositeKeys.Length];
        if (!ReadObject(element, "a composite predicate", CompositeKeys, values))
        {
            return null;
        }

        var onDeny = ReadString(values[3], "on_deny", required: false, "a composite predicate", nonEmpty: false);
        var forms = (values[0] is null ? 0 : 1) + (values[1] is null ? 0 : 1) + (values[2] is null ? 0 : 1);
        if (forms > 1)
        {
            // Report at every form after the first, so the pointer names the key to move.
            var seenForm = false;
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                {
                    if (seenForm)
                    {
                        ErrorAt(property.Name, $"a composite predicate has exactly one of \"all\", \"any\" or \"not\"; move {Quote(property.Name)} into its own predicate and nest it");
                    }

                    seenForm = true;
                }
            }

            return null;
        }

        if (values[2] is { } notElement)
        {
            _at.Push("not");
            var operand = ReadPredicate(notElement);
            _at.Pop();
            return operand is null ? null : new CompositePredicate(CompositeKind.Not, [operand], onDeny);
        }

        var kind = values[0] is not null ? CompositeKind.All : CompositeKind.Any;
        var key = kind == CompositeKind.All ? "all" : "any";
        var listElement = (values[0] ?? values[1])!.Value;
        if (listElement.ValueKind == JsonValueKind.Array && listElement.GetArrayLength() == 0)
        {
            ErrorAt(key, $"{Quote(key)} needs at least one predicate");
            return null;
        }

        var operands = ReadPredicateList(listElement, key);
        return operands is null ? null : new CompositePredicate(kind, operands, onDeny);
    }

    private ComparisonPredicate? ReadComparison(JsonElement element)
    {
        var values = new JsonElement?[ComparisonKeys.Length];
        if (!ReadObject(element, "a predicate", ComparisonKeys, values, V2OnlyComparisonKeys))
        {
            return null;
        }

        var ok = true;
        var path = ReadString(values[0], "path", required: true, "the predicate");
        if (path is not null && !ValidPath(path, allowIdentity: _v2, "path"))
        {
            ok = false;
        }

        ok &= path is not null;

        PredicateOperator op = default;
        var opText = ReadString(values[1], "op", required: true, "the predicate");
        if (opText is null)
        {
            ok = false;
        }
        else if (!Operators.TryGetValue(opText, out var entry))
        {
            ErrorAt("op", $"unknown operator {Quote(opText)}; expected one of {OneOf(Operators.Keys.Where(k => _v2 || !Operators[k].V2).ToArray())}");
            ok = false;
        }
        else if (entry.V2 && !_v2)
        {
            ErrorAt("op", $"the operator {Quote(opText)} needs version \"2\"");
            ok = false;
        }
        else
        {
            op = entry.Op;
        }

        var onDeny = ReadString(values[3], "on_deny", required: false, "the predicate", nonEmpty: false);

        JsonElement value;
        if (values[2] is { } given)
        {
            value = given;
            CheckValueTree(value, "value");
        }
        else
        {
            if (opText is not null)
            {
                ErrorHere($"the predicate is missing the required key \"value\" (the operand of {Quote(opText)})");
            }

            return null;
        }

        if (!ok)
        {
            return null;
        }

        var allowUnusualPaths = false;
        if (values[4] is { } allowUnusual)
        {
            if (allowUnusual.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                ErrorAt("allow_unusual_paths", $"\"allow_unusual_paths\" must be true or false, not {KindName(allowUnusual.ValueKind)}");
                return null;
            }

            if (op != PredicateOperator.PathUnder)
            {
                ErrorAt("allow_unusual_paths", $"\"allow_unusual_paths\" applies only to \"path_under\", not to {Quote(opText!)}; remove it");
                return null;
            }

            allowUnusualPaths = allowUnusual.ValueKind == JsonValueKind.True;
        }

        var regex = CheckOperand(op, opText!, value);
        if (regex is null && op == PredicateOperator.Regex)
        {
            return null;
        }

        return _errors.Count > 0 ? null : new ComparisonPredicate(path!, op, value, onDeny, regex, allowUnusualPaths);
    }

    /// <summary>Checks the operand's type for the operator; for <c>regex</c>, returns the compiled pattern.</summary>
    private Regex? CheckOperand(PredicateOperator op, string opText, JsonElement value)
    {
        switch (op)
        {
            case PredicateOperator.In or PredicateOperator.NotIn:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be an array of values, not {KindName(value.ValueKind)}");
                }

                break;
            case PredicateOperator.Lt or PredicateOperator.Lte or PredicateOperator.Gt or PredicateOperator.Gte:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a number, not {KindName(value.ValueKind)}");
                }

                break;
            case PredicateOperator.Exists:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    ErrorAt("value", $"the operand of \"exists\" must be a boolean (true or false), not {KindName(value.ValueKind)}");
                }

                break;
            case PredicateOperator.Regex:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of \"regex\" must be a string pattern, not {KindName(value.ValueKind)}");
                    return null;
                }

                var pattern = value.GetString()!;
                if (ChargePattern(pattern) is { } tooMany)
                {
                    ErrorAt("value", tooMany);
                    return null;
                }

                try
                {
                    return GetRegex(pattern);
                }
                catch (RegexBudgetException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} is too costly to evaluate: {ex.Message}");
                }
                catch (ArgumentException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} does not compile: {ex.Message}");
                }
                catch (NotSupportedException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} uses a construct the linear-time engine does not support (backreferences, lookarounds, atomic groups): {ex.Message}");
                }

                return null;
            case PredicateOperator.StartsWith or PredicateOperator.EndsWith or PredicateOperator.Glob:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a string, not {KindName(value.ValueKind)}");
                }

                break;
            case PredicateOperator.PathUnder:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of \"path_under\" must be a directory path string, not {KindName(value.ValueKind)}");
                }
                else if (!PathUnder.TryNormalizeRoot(value.GetString()!, out _))
                {
                    ErrorAt("value", $"the operand of \"path_under\" must be an absolute directory path (such as \"/workspace\"), not {Quote(value.GetString()!)}");
                }

                break;
        }

        return null;
    }

    private bool ValidPath(string path, bool allowIdentity, string key)
    {
        var rest = path.StartsWith("args.", StringComparison.Ordinal) ? path.AsSpan(5)
            : allowIdentity && path.StartsWith("identity.", StringComparison.Ordinal) ? path.AsSpan(9)
            : default;
        var valid = !rest.IsEmpty;
        while (valid)
        {
            var dot = rest.IndexOf('.');
            var segment = dot < 0 ? rest : rest[..dot];
            valid = !segment.IsEmpty;
            if (dot < 0)
            {
                break;
            }

            rest = rest[(dot + 1)..];
        }

        if (!valid)
        {
            var roots = allowIdentity ? "\"args.\" or \"identity.\"" : "\"args.\"";
            var hint = !allowIdentity && path.StartsWith("identity.", StringComparison.Ordinal)
                ? "; \"identity.\" paths need version \"2\""
                : string.Empty;
            ErrorAt(key, $"{Quote(key)}: the path {Quote(path)} is not valid; write {roots} followed by dot-separated names, such as \"args.amount\"{hint}");
        }

        return valid;
    }

    // ---------------------------------------------------------------- limits

    private IReadOnlyList<LimitRule>? ReadLimits(JsonElement element, bool isAllTools)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            ErrorHere($"\"limits\" must be an array of limits, not {KindName(element.ValueKind)}");
            return null;
        }

        var limits = new List<LimitRule>(element.GetArrayLength());
        var local = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            _at.Push(index++);
            if (ReadLimit(item) is { } limit)
            {
                if (!local.Add(limit.Counter))
                {
                    ErrorAt("counter", $"the counter {Quote(limit.Counter)} appears twice in this list; give each limit its own counter id");
                }
                else
                {
                    CheckSharedCounter(limit, isAllTools);
                }

                limits.Add(limit);
            }

            _at.Pop();
        }

        return limits;
    }

    private sealed record CounterDefinition(string Pointer, LimitRule Limit, bool AllTools);

    /// <summary>
    /// A counter id names one counter. Tools may share a counter, but then they must agree on what it counts;
    /// a counter of <c>all_tools</c> already applies to every call and must not be reserved twice.
    /// </summary>
    private void CheckSharedCounter(LimitRule limit, bool isAllTools)
    {
        var pointer = _at.With("counter");
        if (!_counters.TryGetValue(limit.Counter, out var first))
        {
            _counters[limit.Counter] = new CounterDefinition(pointer, limit, isAllTools);
            return;
        }

        if (first.AllTools || isAllTools)
        {
            Error(pointer, $"the counter {Quote(limit.Counter)} is also used by {(first.AllTools ? "all_tools" : "a tool")} at {first.Pointer}; a counter of all_tools applies to every call already, so give this limit its own counter id");
            return;
        }

        var other = first.Limit;
        if (other.WindowLength != limit.WindowLength || other.IsCalendarWindow != limit.IsCalendarWindow || other.Max != limit.Max
            || other.Scope != limit.Scope || other.Algorithm != limit.Algorithm)
        {
            Error(pointer, $"the counter {Quote(limit.Counter)} is defined differently at {first.Pointer}; limits that share a counter must have the same window, max, scope and algorithm");
        }
    }

    private LimitRule? ReadLimit(JsonElement element)
    {
        var values = new JsonElement?[LimitKeysV2.Length];
        if (!ReadObject(element, "a limit", LimitKeysV2, values, V2OnlyLimitKeys))
        {
            return null;
        }

        var errorsBefore = _errors.Count;
        var counter = ReadString(values[0], "counter", required: true, "the limit");

        var window = ReadString(values[1], "window", required: true, "the limit");
        var windowLength = TimeSpan.Zero;
        var calendar = false;
        if (window is not null)
        {
            if (!Duration.TryParseWindow(window, out windowLength, out calendar) || (!_v2 && !calendar))
            {
                var allowed = _v2
                    ? "\"minute\", \"hour\", \"day\" or a duration such as \"30s\", \"5m\", \"2h\", \"1d\""
                    : "\"minute\", \"hour\" or \"day\" (durations need version \"2\")";
                ErrorAt("window", $"the window {Quote(window)} is not valid; use {allowed}");
            }
        }

        var max = ReadPositiveInteger(values[2], "max", required: true, "the limit");

        var scope = ReadString(values[3], "scope", required: false, "the limit") ?? (values[3] is null ? "grant" : null);
        var scopeKind = LimitScopeKind.Grant;
        switch (scope)
        {
            case null:
                break;
            case "grant":
                break;
            case "global" when _v2:
                scopeKind = LimitScopeKind.Global;
                break;
            case "tool" when _v2:
                scopeKind = LimitScopeKind.Tool;
                break;
            default:
                if (_v2 && scope.StartsWith("args.", StringComparison.Ordinal))
                {
                    scopeKind = LimitScopeKind.Argument;
                    ValidPath(scope, allowIdentity: false, "scope");
                }
                else
                {
                    ErrorAt("scope", _v2
                        ? $"the scope {Quote(scope)} is not valid; use \"grant\", \"global\", \"tool\" or \"args.<path>\""
                        : $"the scope {Quote(scope)} is not valid in version \"1\", which has only \"grant\"");
                }

                break;
        }

        LimitAlgorithm? algorithm = null;
        if (values[4] is { } algorithmElement)
        {
            if (algorithmElement.ValueKind == JsonValueKind.String && algorithmElement.ValueEquals("fixed"))
            {
                algorithm = LimitAlgorithm.Fixed;
            }
            else if (algorithmElement.ValueKind == JsonValueKind.String && algorithmElement.ValueEquals("sliding"))
            {
                algorithm = LimitAlgorithm.Sliding;
            }
            else
            {
                ErrorAt("algorithm", $"\"algorithm\" must be \"fixed\" or \"sliding\", not {Truncate(algorithmElement.GetRawText())}");
            }
        }

        var cost = ReadPositiveInteger(values[5], "cost", required: false, "the limit");
        var costFrom = ReadString(values[6], "cost_from", required: false, "the limit");
        if (costFrom is not null)
        {
            ValidPath(costFrom, allowIdentity: false, "cost_from");
            if (values[5] is not null)
            {
                ErrorAt("cost_from", "\"cost\" and \"cost_from\" cannot both be set; keep \"cost\" for a fixed cost or \"cost_from\" to charge an argument's amount");
            }
        }

        var onDeny = ReadString(values[7], "on_deny", required: false, "the limit", nonEmpty: false);

        if (_errors.Count != errorsBefore || counter is null || window is null || max is null || scope is null)
        {
            return null;
        }

        return new LimitRule(counter, window, windowLength, calendar, max.Value, scope, scopeKind, algorithm, cost, costFrom, onDeny);
    }
}
