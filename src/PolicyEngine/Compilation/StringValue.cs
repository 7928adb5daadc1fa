using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace PolicyEngine.Compilation;

/// <summary>Reads JSON string values without allocating when they contain no escapes.</summary>
internal static class StringValue
{
    /// <summary>The UTF-8 content of a string value that has no escape sequences (so the bytes are the value itself).</summary>
    public static bool TryGetUnescapedUtf8(JsonElement element, out ReadOnlySpan<byte> utf8)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);

        // Raw string values include their quotes.
        utf8 = raw.Length >= 2 ? raw[1..^1] : default;
        return utf8.IndexOf((byte)'\\') < 0;
    }

    /// <summary>
    /// The value as UTF-16 chars: transcoded into <paramref name="scratch"/> when unescaped and short enough,
    /// otherwise a fresh string.
    /// </summary>
    public static ReadOnlySpan<char> GetChars(JsonElement element, Span<char> scratch)
    {
        if (TryGetUnescapedUtf8(element, out var utf8) && utf8.Length <= scratch.Length)
        {
            var written = Encoding.UTF8.GetChars(utf8, scratch);
            return scratch[..written];
        }

        return element.GetString();
    }
}
