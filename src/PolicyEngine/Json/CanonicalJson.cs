using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using PolicyEngine.Json.Numbers;

namespace PolicyEngine.Json;

/// <summary>
/// A canonical JSON encoding: equal values (per <see cref="JsonValueComparer.DeepEquals(JsonElement, JsonElement)"/>) give identical bytes, and
/// different values give different bytes. Used to hash arguments for audit events and approval fingerprints.
/// </summary>
/// <remarks>
/// Rules:
/// <list type="bullet">
/// <item>No whitespace. <c>true</c>, <c>false</c>, <c>null</c> as usual.</item>
/// <item>Object properties sorted by key in ordinal UTF-16 order of the unescaped key; properties with the same key
/// (duplicates) are all kept, in document order.</item>
/// <item>Strings: unescaped, then re-escaped as <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, other control characters
/// and lone surrogates as lowercase <c>\u00xx</c>/<c>\udxxx</c>; every other character (including <c>/</c>, DEL and
/// non-ASCII) as raw UTF-8. Lone surrogates are kept rather than replaced so that different strings never collide.</item>
/// <item>Numbers: from the normalised form (sign, significant digits d1..dn, adjusted exponent A = place value of d1).
/// Zero is <c>0</c> (so <c>-0</c> is <c>0</c>). When 0 &lt;= A &lt; 21 plain digits (<c>100</c>, <c>12.5</c>); when
/// -7 &lt; A &lt; 0 a leading <c>0.</c> (<c>0.001</c>); otherwise <c>d1[.d2..dn]E+A</c> or <c>E-A</c>
/// (<c>1E+21</c>, <c>1.5E-7</c>), the exponent exact for any size.</item>
/// <item>Values nested deeper than <see cref="JsonValueComparer.MaxDepth"/> are written as their minified source text.</item>
/// </list>
/// </remarks>
internal static class CanonicalJson
{
    private const int PlainExponentLimit = 21;
    private const int SmallFractionLimit = -7;

    /// <summary>
    /// Writes the canonical form of <paramref name="element"/> as one raw value. A default (Undefined) element,
    /// which is not JSON, is written as <c>null</c>.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteNullValue();
            return;
        }

        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            writer.WriteRawValue(sink.Written, skipInputValidation: true);
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>The canonical UTF-8 bytes of <paramref name="element"/> (empty for a default/Undefined element).</summary>
    public static byte[] ToCanonicalBytes(JsonElement element)
    {
        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            return sink.Written.ToArray();
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>SHA-256 of the canonical bytes into <paramref name="destination"/> (at least 32 bytes).</summary>
    public static void Sha256(JsonElement element, Span<byte> destination)
    {
        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            SHA256.HashData(sink.Written, destination);
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>SHA-256 of the canonical bytes (32 bytes).</summary>
    public static byte[] Sha256(JsonElement element)
    {
        byte[] hash = new byte[SHA256.HashSizeInBytes];
        Sha256(element, hash);
        return hash;
    }

    /// <summary>SHA-256 of the canonical bytes as 64 lowercase hex characters.</summary>
    public static string Sha256Hex(JsonElement element)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Sha256(element, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static void WriteValue(ref ByteSink sink, JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= JsonValueComparer.MaxDepth)
                {
                    WriteMinified(ref sink, element);
                }
                else
                {
                    WriteObject(ref sink, element, depth);
                }

                break;
            case JsonValueKind.Array:
                if (depth >= JsonValueComparer.MaxDepth)
                {
                    WriteMinified(ref sink, element);
                    break;
                }

                sink.Write((byte)'[');
                bool first = true;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sink.Write((byte)',');
                    }

                    first = false;
                    WriteValue(ref sink, item, depth + 1);
                }

                sink.Write((byte)']');
                break;
            case JsonValueKind.String:
                WriteString(ref sink, JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.Number:
                WriteNumber(ref sink, JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.True:
                sink.Write("true"u8);
                break;
            case JsonValueKind.False:
                sink.Write("false"u8);
                break;
            case JsonValueKind.Null:
                sink.Write("null"u8);
                break;
            default:
                break;
        }
    }

    private static void WriteObject(ref ByteSink sink, JsonElement element, int depth)
    {
        int count = element.GetPropertyCount();
        sink.Write((byte)'{');
        if (count > 0)
        {
            JsonProperty[] properties = ArrayPool<JsonProperty>.Shared.Rent(count);
            int[] order = ArrayPool<int>.Shared.Rent(count);
            try
            {
                JsonValueComparer.Fill(element, properties, order);
                order.AsSpan(0, count).Sort(new PropertyOrder(properties));
                for (int i = 0; i < count; i++)
                {
                    if (i > 0)
                    {
                        sink.Write((byte)',');
                    }

                    JsonProperty property = properties[order[i]];
                    WriteString(ref sink, JsonMarshal.GetRawUtf8PropertyName(property));
                    sink.Write((byte)':');
                    WriteValue(ref sink, property.Value, depth + 1);
                }
            }
            finally
            {
                ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
                ArrayPool<int>.Shared.Return(order);
            }
        }

        sink.Write((byte)'}');
    }

    private static void WriteMinified(ref ByteSink sink, JsonElement element)
    {
        var reader = new MinifiedJsonReader(JsonMarshal.GetRawUtf8Value(element));
        while (reader.TryNext(out byte b))
        {
            sink.Write(b);
        }
    }

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

    /// <summary>Writes a JSON number in canonical form (see the type's remarks).</summary>
    internal static void WriteNumber(ref ByteSink sink, ReadOnlySpan<byte> raw)
    {
        if (!NumberParts.TryParse(raw, out NumberParts parts))
        {
            // Unreachable for a JsonElement; keep the text so that different inputs stay different.
            sink.Write(raw);
            return;
        }

        if (parts.IsZero)
        {
            sink.Write((byte)'0');
            return;
        }

        if (parts.Negative)
        {
            sink.Write((byte)'-');
        }

        int count = parts.DigitCount;
        if (parts.ExponentIsSmall)
        {
            long adjusted = parts.AdjustedExponent;
            if (adjusted >= 0 && adjusted < PlainExponentLimit)
            {
                int integerDigits = (int)adjusted + 1;
                if (count <= integerDigits)
                {
                    WriteDigits(ref sink, in parts, 0, count);
                    sink.WriteRepeated((byte)'0', integerDigits - count);
                }
                else
                {
                    WriteDigits(ref sink, in parts, 0, integerDigits);
                    sink.Write((byte)'.');
                    WriteDigits(ref sink, in parts, integerDigits, count - integerDigits);
                }

                return;
            }

            if (adjusted < 0 && adjusted > SmallFractionLimit)
            {
                sink.Write("0."u8);
                sink.WriteRepeated((byte)'0', (int)(-adjusted - 1));
                WriteDigits(ref sink, in parts, 0, count);
                return;
            }

            WriteScientificMantissa(ref sink, in parts, count);
            sink.Write(adjusted < 0 ? "E-"u8 : "E+"u8);
            Span<byte> exponent = sink.GetSpan(20);
            ((ulong)Math.Abs(adjusted)).TryFormat(exponent, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
            sink.Advance(written);
            return;
        }

        WriteScientificMantissa(ref sink, in parts, count);
        sink.Write(parts.ExponentNegative ? "E-"u8 : "E+"u8);
        WriteHugeExponentMagnitude(ref sink, in parts);
    }

    private static void WriteScientificMantissa(ref ByteSink sink, in NumberParts parts, int count)
    {
        WriteDigits(ref sink, in parts, 0, 1);
        if (count > 1)
        {
            sink.Write((byte)'.');
            WriteDigits(ref sink, in parts, 1, count - 1);
        }
    }

    private static void WriteDigits(ref ByteSink sink, in NumberParts parts, int start, int count)
    {
        parts.SliceDigits(start, count, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second);
        sink.Write(first);
        sink.Write(second);
    }

    /// <summary>
    /// Writes |E + Offset| for a written exponent E of 19 or more digits. |E| &gt;= 10^18 dwarfs |Offset| &lt; 2^31, so the
    /// result keeps E's sign and is |E| plus or minus |Offset|, computed digit by digit.
    /// </summary>
    private static void WriteHugeExponentMagnitude(ref ByteSink sink, in NumberParts parts)
    {
        ReadOnlySpan<byte> digits = parts.ExponentDigits;
        long offset = parts.Offset;
        bool add = offset != 0 && (offset > 0) != parts.ExponentNegative;
        ulong small = (ulong)Math.Abs(offset);
        Span<byte> output = sink.GetSpan(digits.Length + 1);
        int carry = 0;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int smallDigit = (int)(small % 10);
            small /= 10;
            int d = add ? digits[i] - '0' + smallDigit + carry : digits[i] - '0' - smallDigit - carry;
            if (add)
            {
                carry = d / 10;
                d %= 10;
            }
            else if (d < 0)
            {
                d += 10;
                carry = 1;
            }
            else
            {
                carry = 0;
            }

            output[i + 1] = (byte)('0' + d);
        }

        output[0] = (byte)('0' + (add ? carry : 0));
        int leading = output[..(digits.Length + 1)].IndexOfAnyExcept((byte)'0');
        int length = digits.Length + 1 - leading;
        output.Slice(leading, length).CopyTo(output);
        sink.Advance(length);
    }
}
