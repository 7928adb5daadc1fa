using System.Text.Encodings.Web;
using System.Text.Json;

namespace PolicyEngine.Cli;

/// <summary>Writes one compact JSON object per line.</summary>
internal static class JsonLines
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Object(Action<Utf8JsonWriter> body)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Error(PolicyError error) => Object(w =>
    {
        w.WriteString("pointer", error.Pointer);
        w.WriteString("message", error.Message);
    });

    /// <summary>Writes one <c>{"pointer", "message"}</c> line per problem.</summary>
    public static async Task WriteErrorsAsync(TextWriter writer, IEnumerable<PolicyError> errors)
    {
        foreach (var error in errors)
        {
            await writer.WriteLineAsync(Error(error)).ConfigureAwait(false);
        }
    }
}
