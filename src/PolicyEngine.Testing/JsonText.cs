using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PolicyEngine.Json;

namespace PolicyEngine.Testing;

/// <summary>Small JSON helpers shared by the generators and reports.</summary>
internal static class JsonText
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly JsonWriterOptions CompactWriter = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonElement EmptyObject = Parse("{}");

    /// <summary>Parses JSON text into a detached element.</summary>
    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>A .NET string as a JSON string literal (non-ASCII text stays readable).</summary>
    public static string Quote(string text) => JsonSerializer.Serialize(text, Relaxed);

    /// <summary>The element as compact JSON text, readable (non-ASCII text unescaped).</summary>
    public static string Compact(JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            return "{}";
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, CompactWriter))
        {
            element.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The node as compact JSON text.</summary>
    public static string Compact(JsonNode? node) => node is null ? "null" : node.ToJsonString(Relaxed);

    /// <summary>Glob match with <c>*</c> (any run of characters) and <c>?</c> (one character): the engine's own matcher.</summary>
    public static bool GlobMatch(string pattern, string text) => PolicyEngine.Matching.Glob.IsMatch(pattern, text);

    /// <summary>Escapes one JSON Pointer segment.</summary>
    public static string PointerSegment(string segment) => PointerBuilder.Escape(segment);
}
