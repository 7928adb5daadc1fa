using System.Globalization;
using System.Text.Json;

namespace PolicyEngine.Cli;

/// <summary>One input line of <c>eval</c> and <c>explain</c>: identity, tool, args, and the run controls.</summary>
internal sealed class CallLine
{
    private static readonly string[] Keys = ["identity", "tool", "args", "at", "outcome", "approve"];

    private const string Example = "{\"identity\": \"alice\", \"tool\": \"read_file\", \"args\": {\"path\": \"/tmp/x\"}}";

    private CallLine(PolicyIdentity identity, string tool, JsonElement args, DateTimeOffset? at, bool failed, bool approve, IReadOnlyList<string> ignoredKeys)
    {
        IgnoredKeys = ignoredKeys;
        Identity = identity;
        Tool = tool;
        Args = args;
        At = at;
        Failed = failed;
        Approve = approve;
    }

    public PolicyIdentity Identity { get; }

    public string Tool { get; }

    public JsonElement Args { get; }

    public DateTimeOffset? At { get; }

    /// <summary><c>outcome: "error"</c>: the upstream call failed and its reservation is rolled back.</summary>
    public bool Failed { get; }

    public bool Approve { get; }

    /// <summary>
    /// Keys the line carries besides the contract's (a test harness's <c>expect</c> or <c>name</c>, or a typo): the
    /// call is still evaluated, and the command warns on standard error.
    /// </summary>
    public IReadOnlyList<string> IgnoredKeys { get; }

    /// <summary>The keys a call line may carry.</summary>
    public static string KnownKeys => string.Join(", ", Keys);

    /// <summary>Parses a line; throws <see cref="FormatException"/> with a message for the <c>{"error"}</c> output.</summary>
    public static CallLine Parse(string line)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(line, new JsonDocumentOptions { MaxDepth = 256 });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            // In the project's words, not System.Text.Json's (whose line number counts from 0).
            var column = ex.BytePositionInLine is { } position ? $" at character {position + 1}" : string.Empty;
            throw new FormatException($"not valid JSON{column}; a call is one JSON object on one line, such as {Example}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"a call must be a JSON object, such as {Example}");
        }

        var ignored = new List<string>();
        foreach (var property in root.EnumerateObject())
        {
            if (Array.IndexOf(Keys, property.Name) < 0)
            {
                ignored.Add(property.Name);
            }
        }

        if (!root.TryGetProperty("tool", out var toolElement) || toolElement.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("\"tool\" must be a string");
        }

        var identity = ReadIdentity(root);

        var args = root.TryGetProperty("args", out var argsElement) ? argsElement : default;

        DateTimeOffset? at = null;
        if (root.TryGetProperty("at", out var atElement) && atElement.ValueKind != JsonValueKind.Null)
        {
            if (atElement.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(atElement.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                throw new FormatException("\"at\" must be an ISO 8601 time such as \"2026-01-01T00:00:00Z\"");
            }

            at = parsed;
        }

        var failed = false;
        if (root.TryGetProperty("outcome", out var outcome) && outcome.ValueKind != JsonValueKind.Null)
        {
            failed = outcome.ValueKind == JsonValueKind.String && outcome.ValueEquals("error");
            if (!failed && !(outcome.ValueKind == JsonValueKind.String && outcome.ValueEquals("ok")))
            {
                throw new FormatException("\"outcome\" must be \"ok\" or \"error\"");
            }
        }

        var approve = false;
        if (root.TryGetProperty("approve", out var approveElement) && approveElement.ValueKind != JsonValueKind.Null)
        {
            approve = approveElement.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw new FormatException("\"approve\" must be true or false"),
            };
        }

        return new CallLine(identity, toolElement.GetString()!, args, at, failed, approve, ignored);
    }

    private static PolicyIdentity ReadIdentity(JsonElement root)
    {
        if (!root.TryGetProperty("identity", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            // Every call is someone's: a line that forgets the caller must not be counted against a made-up one.
            throw new FormatException("\"identity\" is required: a string id such as \"alice\", or an object such as {\"id\": \"alice\", \"roles\": [\"admin\"]}");
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return new PolicyIdentity(element.GetString()!);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("\"identity\" must be a string id or an object with \"id\"");
        }

        if (!element.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("\"identity\" needs a string \"id\"");
        }

        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!property.NameEquals("id"))
            {
                attributes[property.Name] = property.Value;
            }
        }

        return new PolicyIdentity(id.GetString()!, attributes);
    }
}
