using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace PolicyEngine.Json;

/// <summary>
/// Reads JSON string values without allocating when they are short or contain no escapes, and without throwing
/// for any content (<see cref="JsonElement.GetString"/> throws on an escaped lone surrogate; this never does).
/// </summary>
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
    /// The value as UTF-16 code units: decoded into <paramref name="scratch"/> when it fits, otherwise into a new
    /// array. Escaped lone surrogates and NULs come through as the code units they denote.
    /// </summary>
    public static ReadOnlySpan<char> GetChars(JsonElement element, Span<char> scratch)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        var body = JsonStringCursor.StripQuotes(raw);

        // A UTF-8 body never decodes to more UTF-16 code units than it has bytes.
        var buffer = body.Length <= scratch.Length ? scratch : new char[body.Length];
        if (body.IndexOf((byte)'\\') < 0)
        {
            return buffer[..Encoding.UTF8.GetChars(body, buffer)];
        }

        var cursor = new JsonStringCursor(body);
        var length = 0;
        while (cursor.TryNext(out var unit))
        {
            buffer[length++] = unit;
        }

        return buffer[..length];
    }

    /// <summary>The property's name as UTF-16 code units, lone surrogates included (<see cref="JsonProperty.Name"/> throws on them).</summary>
    public static string GetName(JsonProperty property)
    {
        var body = JsonStringCursor.StripQuotes(JsonMarshal.GetRawUtf8PropertyName(property));
        if (body.IndexOf((byte)'\\') < 0)
        {
            return Encoding.UTF8.GetString(body);
        }

        var builder = new StringBuilder(body.Length);
        var cursor = new JsonStringCursor(body);
        while (cursor.TryNext(out var unit))
        {
            builder.Append(unit);
        }

        return builder.ToString();
    }

    /// <summary>
    /// Whether the property's name is <paramref name="name"/> (given also as <paramref name="utf8"/>), comparing code
    /// units exactly and never throwing (<see cref="JsonProperty.NameEquals(ReadOnlySpan{byte})"/> throws on an escaped
    /// lone surrogate, which an agent can send).
    /// </summary>
    public static bool NameEquals(JsonProperty property, ReadOnlySpan<byte> utf8, string name)
    {
        var body = JsonStringCursor.StripQuotes(JsonMarshal.GetRawUtf8PropertyName(property));
        if (body.IndexOf((byte)'\\') < 0)
        {
            // Without escapes the raw bytes are the name; a valid UTF-8 name has one encoding.
            return body.SequenceEqual(utf8);
        }

        var cursor = new JsonStringCursor(body);
        var index = 0;
        while (cursor.TryNext(out var unit))
        {
            if (index >= name.Length || name[index] != unit)
            {
                return false;
            }

            index++;
        }

        return index == name.Length;
    }
}
