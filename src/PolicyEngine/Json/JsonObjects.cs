using System.Runtime.InteropServices;
using System.Text.Json;

namespace PolicyEngine.Json;

/// <summary>
/// Builds a JSON object from .NET names and <see cref="JsonElement"/> values without losing anything: names are
/// written with <see cref="CanonicalJson"/>'s escaping, so a lone surrogate stays an escape (<see cref="Utf8JsonWriter"/>
/// would write U+FFFD and merge different names), and values are copied as their raw JSON text
/// (<see cref="JsonElement.WriteTo"/> throws on an escaped lone surrogate).
/// </summary>
internal static class JsonObjects
{
    /// <summary>The empty object <c>{}</c>: what a call without arguments is evaluated, fingerprinted and audited as.</summary>
    public static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement;

    /// <summary>
    /// A call's arguments as one object: the dictionary form (the MCP SDK's shape) is copied into one, an object is
    /// itself, anything else (no arguments) is <see cref="Empty"/>.
    /// </summary>
    public static JsonElement Arguments(JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary) =>
        dictionary is not null ? Create(null, dictionary)
        : args.ValueKind == JsonValueKind.Object ? args
        : Empty;

    private static readonly JsonDocumentOptions ParseOptions = new()
    {
        // The values were parsed once already, by whoever built them: their depth and syntax are theirs to bound.
        MaxDepth = int.MaxValue,
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>
    /// The object <c>{"id": id, name: value, ...}</c>: <paramref name="id"/> first when given (a member named
    /// <c>id</c> is then skipped), then the members in their order; an undefined value is written as <c>null</c>.
    /// </summary>
    public static JsonElement Create(string? id, IEnumerable<KeyValuePair<string, JsonElement>>? members)
    {
        var sink = new ByteSink(256);
        try
        {
            sink.Write((byte)'{');
            var first = true;
            if (id is not null)
            {
                CanonicalJson.WriteString(ref sink, "id");
                sink.Write((byte)':');
                CanonicalJson.WriteString(ref sink, id.AsSpan());
                first = false;
            }

            if (members is not null)
            {
                foreach (var (name, value) in members)
                {
                    if (id is not null && name == "id")
                    {
                        continue;
                    }

                    if (!first)
                    {
                        sink.Write((byte)',');
                    }

                    first = false;
                    CanonicalJson.WriteString(ref sink, name.AsSpan());
                    sink.Write((byte)':');
                    if (value.ValueKind == JsonValueKind.Undefined)
                    {
                        sink.Write("null"u8);
                    }
                    else
                    {
                        sink.Write(JsonMarshal.GetRawUtf8Value(value));
                    }
                }
            }

            sink.Write((byte)'}');
            using var document = JsonDocument.Parse(sink.Written.ToArray(), ParseOptions);
            return document.RootElement.Clone();
        }
        finally
        {
            sink.Dispose();
        }
    }
}
