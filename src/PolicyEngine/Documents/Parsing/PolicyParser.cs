using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;
using PolicyEngine.Json;
using PolicyEngine.Matching;

namespace PolicyEngine.Documents.Parsing;

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
    internal const int MaxDepth = PolicyDocument.MaxNestingDepth;

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

    private readonly List<PolicyError> _errors = [];
    private readonly PointerBuilder _at = new();
    private readonly Dictionary<string, CounterDefinition> _counters = new(StringComparer.Ordinal);
    private int _droppedErrors;
    private bool _v2 = true;
    private bool _schemaCheck;

    /// <summary>The distinct patterns this document uses so far (regex operators and schema patterns).</summary>
    private readonly HashSet<string> _patterns = new(StringComparer.Ordinal);

    /// <summary>The parser building an <c>args_schema</c> on this thread, whose pattern count the schema keywords charge.</summary>
    [ThreadStatic]
    private static PolicyParser? t_schemaParser;

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
            utf8 = StrictUtf8.Encoding.GetBytes(json);
        }
        catch (EncoderFallbackException ex)
        {
            errors = [new PolicyError(string.Empty, $"the document is not valid text: a lone surrogate at character {ex.Index}")];
            return null;
        }

        return Parse(utf8, out errors, schemaCheck);
    }

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
}
