using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;

namespace PolicyEngine.Json;

// Canonical JSON, strings: one escaping for JSON text and .NET strings, lone surrogates kept as escapes.
internal static partial class CanonicalJson
{
    /// <summary>Writes a JSON string (raw text with or without quotes) in canonical escaping.</summary>
    internal static void WriteString(ref ByteSink sink, ReadOnlySpan<byte> raw)
    {
        ReadOnlySpan<byte> body = JsonStringCursor.StripQuotes(raw);
        sink.Write((byte)'"');

        // Without escapes, a JSON string body is valid UTF-8 with no quote, backslash or control character: exactly
        // what the slow path below would produce, so copy it.
        if (body.IndexOf((byte)'\\') < 0 && Utf8.IsValid(body) && body.IndexOfAnyInRange((byte)0, (byte)0x1F) < 0 && body.IndexOf((byte)'"') < 0)
        {
            sink.Write(body);
            sink.Write((byte)'"');
            return;
        }

        var cursor = new JsonStringCursor(body);
        Span<byte> utf8 = stackalloc byte[4];
        while (cursor.TryNext(out char unit))
        {
            if (char.IsHighSurrogate(unit))
            {
                JsonStringCursor lookahead = cursor;
                if (lookahead.TryNext(out char low) && char.IsLowSurrogate(low))
                {
                    cursor = lookahead;
                    int written = new Rune(unit, low).EncodeToUtf8(utf8);
                    sink.Write(utf8[..written]);
                    continue;
                }
            }

            WriteUnit(ref sink, unit, utf8);
        }

        sink.Write((byte)'"');
    }

    /// <summary>
    /// Writes a .NET string as a JSON string in the same canonical escaping as <see cref="WriteString(ref ByteSink, ReadOnlySpan{byte})"/>:
    /// lone surrogates become <c>\udxxx</c> escapes instead of U+FFFD, so different strings always give different bytes
    /// (<see cref="System.Text.Json.Utf8JsonWriter"/> would replace them and merge distinct names).
    /// </summary>
    internal static void WriteString(ref ByteSink sink, ReadOnlySpan<char> value)
    {
        sink.Write((byte)'"');
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < value.Length; i++)
        {
            char unit = value[i];
            if (char.IsHighSurrogate(unit) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                int written = new Rune(unit, value[i + 1]).EncodeToUtf8(utf8);
                sink.Write(utf8[..written]);
                i++;
                continue;
            }

            WriteUnit(ref sink, unit, utf8);
        }

        sink.Write((byte)'"');
    }

    /// <summary>Writes one UTF-16 code unit that is not part of a surrogate pair.</summary>
    private static void WriteUnit(ref ByteSink sink, char unit, scoped Span<byte> utf8)
    {
        if (char.IsSurrogate(unit))
        {
            // A lone surrogate is kept as an escape rather than replaced, so different strings never collide.
            WriteUnicodeEscape(ref sink, unit);
            return;
        }

        switch (unit)
        {
            case '"':
                sink.Write("\\\""u8);
                break;
            case '\\':
                sink.Write("\\\\"u8);
                break;
            case '\b':
                sink.Write("\\b"u8);
                break;
            case '\f':
                sink.Write("\\f"u8);
                break;
            case '\n':
                sink.Write("\\n"u8);
                break;
            case '\r':
                sink.Write("\\r"u8);
                break;
            case '\t':
                sink.Write("\\t"u8);
                break;
            default:
                if (unit < 0x20)
                {
                    WriteUnicodeEscape(ref sink, unit);
                }
                else
                {
                    int written = new Rune(unit).EncodeToUtf8(utf8);
                    sink.Write(utf8[..written]);
                }

                break;
        }
    }

    private static void WriteUnicodeEscape(ref ByteSink sink, char unit)
    {
        ReadOnlySpan<byte> hex = "0123456789abcdef"u8;
        Span<byte> escape = sink.GetSpan(6);
        escape[0] = (byte)'\\';
        escape[1] = (byte)'u';
        escape[2] = hex[(unit >> 12) & 0xF];
        escape[3] = hex[(unit >> 8) & 0xF];
        escape[4] = hex[(unit >> 4) & 0xF];
        escape[5] = hex[unit & 0xF];
        sink.Advance(6);
    }
}
