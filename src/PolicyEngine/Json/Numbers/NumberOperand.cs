using System.Runtime.InteropServices;
using System.Text.Json;

namespace PolicyEngine.Json.Numbers;

/// <summary>
/// A policy's numeric operand, prepared once at compile time so that comparing an argument against it is cheap.
/// </summary>
/// <remarks>
/// When the operand is an integer that fits in a long (including spellings such as <c>1e2</c> or <c>100.0</c>), an
/// argument that <see cref="JsonElement.TryGetInt64"/> accepts is compared as two longs, which is exact. Everything
/// else (fractions, huge or long numbers, exponent spellings in the argument) falls back to
/// <see cref="ExactNumber"/> on the raw UTF-8 bytes, which is also exact and allocation-free.
/// </remarks>
internal sealed class NumberOperand
{
    private readonly byte[] _text;
    private readonly bool _isInt64;
    private readonly long _int64;

    private NumberOperand(byte[] text, bool isInt64, long int64)
    {
        _text = text;
        _isInt64 = isInt64;
        _int64 = int64;
    }

    /// <summary>The operand's JSON text as written in the policy.</summary>
    public ReadOnlySpan<byte> Text => _text;

    /// <summary>Creates the operand from a JSON number; false when <paramref name="number"/> is not a number.</summary>
    public static bool TryCreate(JsonElement number, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NumberOperand? operand)
    {
        operand = null;
        if (number.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        ReadOnlySpan<byte> raw = JsonMarshal.GetRawUtf8Value(number);
        bool isInt64 = ExactNumber.TryGetExactInt64(raw, out long int64);
        operand = new NumberOperand(raw.ToArray(), isInt64, int64);
        return true;
    }

    /// <summary>Creates the operand from JSON number text; false when the text is not an RFC 8259 number.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> numberText, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NumberOperand? operand)
    {
        operand = null;
        if (!NumberParts.TryParse(numberText, out NumberParts parts))
        {
            return false;
        }

        bool isInt64 = ExactNumber.TryGetExactInt64(in parts, out long int64);
        operand = new NumberOperand(numberText.ToArray(), isInt64, int64);
        return true;
    }

    /// <summary>
    /// Compares <paramref name="value"/> with this operand: <paramref name="result"/> is negative when the value is
    /// less than the operand, zero when equal, positive when greater. Returns false (and 0) when the value is not a
    /// JSON number, so an ordering operator can simply not hold; it never throws.
    /// </summary>
    public bool TryCompareTo(JsonElement value, out int result)
    {
        result = 0;
        if (value.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (_isInt64 && value.TryGetInt64(out long argument))
        {
            result = argument.CompareTo(_int64);
            return true;
        }

        result = ExactNumber.Compare(JsonMarshal.GetRawUtf8Value(value), _text);
        return true;
    }

    /// <summary>True when <paramref name="value"/> is a JSON number equal to this operand.</summary>
    public bool ValueEquals(JsonElement value) => TryCompareTo(value, out int result) && result == 0;
}
