using System.Text;
using System.Text.Unicode;

namespace PolicyEngine.Json;

/// <summary>
/// Reads the UTF-16 code units of a JSON string straight from its raw (escaped) UTF-8 text, without allocating.
/// </summary>
/// <remarks>
/// Comparing strings as UTF-16 code units after unescaping is what "ordinal" means in .NET, and it is total even for
/// text that <see cref="string"/> conversion rejects: an escaped lone surrogate (<c>\ud800</c>) is simply the code unit
/// 0xD800, and an embedded NUL is 0x0000. <c>JsonElement.GetString</c> throws on lone surrogates, so the hot path never
/// uses it. Malformed input (never produced by <c>JsonDocument</c>) still has a defined reading: an invalid UTF-8
/// sequence reads as U+FFFD and a malformed escape reads as a literal backslash.
/// </remarks>
internal ref struct JsonStringCursor
{
    private readonly ReadOnlySpan<byte> _text;
    private int _position;
    private char _pendingLow;

    /// <summary>Starts reading <paramref name="raw"/>, the string's text with or without its surrounding quotes.</summary>
    public JsonStringCursor(ReadOnlySpan<byte> raw)
    {
        _text = StripQuotes(raw);
        _position = 0;
        _pendingLow = '\0';
    }

    /// <summary>Removes the surrounding quotes if present (an unescaped string body can never start with a quote).</summary>
    public static ReadOnlySpan<byte> StripQuotes(ReadOnlySpan<byte> raw)
    {
        return raw.Length >= 2 && raw[0] == (byte)'"' && raw[^1] == (byte)'"' ? raw[1..^1] : raw;
    }

    /// <summary>Reads the next UTF-16 code unit; false at the end.</summary>
    public bool TryNext(out char unit)
    {
        if (_pendingLow != '\0')
        {
            unit = _pendingLow;
            _pendingLow = '\0';
            return true;
        }

        if (_position >= _text.Length)
        {
            unit = '\0';
            return false;
        }

        byte b = _text[_position];
        if (b == (byte)'\\')
        {
            unit = ReadEscape();
            return true;
        }

        if (b < 0x80)
        {
            _position++;
            unit = (char)b;
            return true;
        }

        Rune.DecodeFromUtf8(_text[_position..], out Rune rune, out int consumed);
        _position += Math.Max(consumed, 1);
        if (rune.IsBmp)
        {
            unit = (char)rune.Value;
            return true;
        }

        int offset = rune.Value - 0x10000;
        unit = (char)(0xD800 + (offset >> 10));
        _pendingLow = (char)(0xDC00 + (offset & 0x3FF));
        return true;
    }

    /// <summary>Compares two raw JSON strings by their unescaped UTF-16 code units (ordinal order).</summary>
    public static int CompareOrdinal(ReadOnlySpan<byte> rawA, ReadOnlySpan<byte> rawB)
    {
        var a = new JsonStringCursor(rawA);
        var b = new JsonStringCursor(rawB);
        while (true)
        {
            bool hasA = a.TryNext(out char ca);
            bool hasB = b.TryNext(out char cb);
            if (!hasA || !hasB)
            {
                return hasA == hasB ? 0 : hasA ? 1 : -1;
            }

            if (ca != cb)
            {
                return ca < cb ? -1 : 1;
            }
        }
    }

    /// <summary>True when two raw JSON strings have the same unescaped value.</summary>
    public static bool ValueEquals(ReadOnlySpan<byte> rawA, ReadOnlySpan<byte> rawB)
    {
        ReadOnlySpan<byte> a = StripQuotes(rawA);
        ReadOnlySpan<byte> b = StripQuotes(rawB);

        // Without escapes, valid UTF-8 maps one-to-one to UTF-16, so byte equality is value equality.
        if (a.IndexOf((byte)'\\') < 0 && b.IndexOf((byte)'\\') < 0 && Utf8.IsValid(a) && Utf8.IsValid(b))
        {
            return a.SequenceEqual(b);
        }

        return CompareOrdinal(a, b) == 0;
    }

    private char ReadEscape()
    {
        // _text[_position] is the backslash.
        if (_position + 1 >= _text.Length)
        {
            _position++;
            return '\\';
        }

        byte kind = _text[_position + 1];
        char simple = kind switch
        {
            (byte)'"' => '"',
            (byte)'\\' => '\\',
            (byte)'/' => '/',
            (byte)'b' => '\b',
            (byte)'f' => '\f',
            (byte)'n' => '\n',
            (byte)'r' => '\r',
            (byte)'t' => '\t',
            _ => '\uFFFF',
        };
        if (simple != '\uFFFF')
        {
            _position += 2;
            return simple;
        }

        if (kind == (byte)'u' && _position + 6 <= _text.Length)
        {
            int value = 0;
            for (int i = 0; i < 4; i++)
            {
                int digit = HexValue(_text[_position + 2 + i]);
                if (digit < 0)
                {
                    value = -1;
                    break;
                }

                value = (value << 4) | digit;
            }

            if (value >= 0)
            {
                _position += 6;
                return (char)value;
            }
        }

        _position++;
        return '\\';
    }

    private static int HexValue(byte b)
    {
        if ((uint)(b - '0') <= 9)
        {
            return b - '0';
        }

        int lower = b | 0x20;
        return (uint)(lower - 'a') <= 5 ? lower - 'a' + 10 : -1;
    }
}
