using System.Runtime.InteropServices;
using System.Text.Json;

namespace PolicyEngine.Json.Numbers;

/// <summary>
/// Exact comparison of JSON numbers straight from their UTF-8 text: no double, no decimal, no rounding, no allocation.
/// </summary>
/// <remarks>
/// A double would make <c>9007199254740993</c> equal <c>9007199254740992</c> and a decimal would overflow on
/// <c>1e400</c>; a policy limit that can be crossed by picking a number the converter rounds is a bypass. Comparing the
/// normalised decimal form (sign, significant digits, adjusted exponent) is exact for any size and runs in time
/// linear in the text.
/// </remarks>
internal static class ExactNumber
{
    /// <summary>Differences of written exponents at least this large dominate any offset (offsets are below 2^32).</summary>
    private const int SmallDifferenceDigits = 12;

    /// <summary>
    /// Compares two JSON number texts by value. Returns a negative value, zero, or a positive value.
    /// </summary>
    /// <remarks>
    /// Never throws. Text that is not an RFC 8259 number (which a <see cref="JsonElement"/> of kind Number never is)
    /// sorts after every valid number, and all such texts compare equal to each other, so the order stays total.
    /// </remarks>
    public static int Compare(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        bool validA = NumberParts.TryParse(a, out NumberParts pa);
        bool validB = NumberParts.TryParse(b, out NumberParts pb);
        if (!validA || !validB)
        {
            return validA == validB ? 0 : validA ? -1 : 1;
        }

        return Compare(in pa, in pb);
    }

    /// <summary>Compares two parsed numbers by value.</summary>
    public static int Compare(in NumberParts a, in NumberParts b)
    {
        int signA = a.Sign;
        int signB = b.Sign;
        if (signA != signB)
        {
            return signA < signB ? -1 : 1;
        }

        if (signA == 0)
        {
            return 0;
        }

        int magnitude = CompareMagnitude(in a, in b);
        return signA > 0 ? magnitude : -magnitude;
    }

    /// <summary>True when both texts are valid JSON numbers with the same value.</summary>
    public static bool ValueEquals(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        // Identical text is the overwhelmingly common case for equal numbers; skip the parse.
        if (a.SequenceEqual(b))
        {
            return NumberParts.TryParse(a, out _);
        }

        return NumberParts.TryParse(a, out NumberParts pa)
            && NumberParts.TryParse(b, out NumberParts pb)
            && Compare(in pa, in pb) == 0;
    }

    /// <summary>
    /// True when the text is an exact integer that fits in a <see cref="long"/> (<c>5</c>, <c>5.0</c>, <c>5e0</c>,
    /// <c>500e-2</c>, <c>-0</c>); false for fractions, values outside the long range (such as <c>1e30</c>) and
    /// invalid text.
    /// </summary>
    public static bool TryGetExactInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        return NumberParts.TryParse(text, out NumberParts parts) && TryGetExactInt64(in parts, out value);
    }

    /// <summary>See <see cref="TryGetExactInt64(ReadOnlySpan{byte}, out long)"/>.</summary>
    public static bool TryGetExactInt64(in NumberParts parts, out long value)
    {
        value = 0;
        if (parts.IsZero)
        {
            return true;
        }

        // A huge written exponent means the value is either below 1 or far above the long range.
        if (!parts.ExponentIsSmall)
        {
            return false;
        }

        long adjusted = parts.AdjustedExponent;
        int digits = parts.DigitCount;

        // long.MaxValue has 19 digits, so the first digit's place value must be at most 10^18; the last digit's place
        // value must be at least 10^0 or the value has a fractional part.
        if (adjusted < 0 || adjusted > 18 || digits - 1 > adjusted)
        {
            return false;
        }

        // At most 19 digits: fits in ulong without overflow.
        ulong magnitude = 0;
        for (int i = 0; i <= adjusted; i++)
        {
            magnitude = (magnitude * 10) + (ulong)(i < digits ? parts.DigitAt(i) - '0' : 0);
        }

        if (parts.Negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1)
            {
                return false;
            }

            value = (long)(0UL - magnitude);
            return true;
        }

        if (magnitude > long.MaxValue)
        {
            return false;
        }

        value = (long)magnitude;
        return true;
    }

    /// <summary>
    /// True only when <paramref name="element"/> is a JSON number that is an exact integer &gt;= 0 fitting in a
    /// <see cref="long"/>: <c>5</c>, <c>5.0</c>, <c>5e0</c> and <c>500e-2</c> all give 5; <c>-0</c> gives 0.
    /// </summary>
    /// <remarks>
    /// Used for spend caps (<c>cost_from</c>), where a wrong amount must never reach a counter. <c>5.5</c> (fractional),
    /// <c>-1</c> (negative), strings and non-numbers are rejected. <c>1e30</c> is an integer but does not fit in a long,
    /// so it is rejected too rather than being clamped or rounded; the caller denies the call.
    /// </remarks>
    public static bool IsNonNegativeInteger(JsonElement element, out long value)
    {
        value = 0;
        if (element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        // Plain integer text is the common case and TryGetInt64 parses it without touching our slower path.
        if (element.TryGetInt64(out long fast))
        {
            if (fast < 0)
            {
                return false;
            }

            value = fast;
            return true;
        }

        if (TryGetExactInt64(JsonMarshal.GetRawUtf8Value(element), out long exact) && exact >= 0)
        {
            value = exact;
            return true;
        }

        return false;
    }

    private static int CompareMagnitude(in NumberParts a, in NumberParts b)
    {
        int exponent = CompareAdjustedExponents(in a, in b);
        if (exponent != 0)
        {
            return exponent;
        }

        int countA = a.DigitCount;
        int countB = b.DigitCount;
        int common = Math.Min(countA, countB);
        for (int i = 0; i < common; i++)
        {
            int diff = a.DigitAt(i) - b.DigitAt(i);
            if (diff != 0)
            {
                return diff < 0 ? -1 : 1;
            }
        }

        // Neither has trailing zeros, so extra digits always add value.
        return countA.CompareTo(countB);
    }

    /// <summary>Sign of <c>(Ea + Ka) - (Eb + Kb)</c> for written exponents E of any length and offsets K.</summary>
    private static int CompareAdjustedExponents(in NumberParts a, in NumberParts b)
    {
        if (a.ExponentIsSmall && b.ExponentIsSmall)
        {
            // |E| < 10^18 and |K| < 2^31: the sums cannot overflow.
            return a.AdjustedExponent.CompareTo(b.AdjustedExponent);
        }

        // Compare D = Ea - Eb against Kb - Ka, whose magnitude is below 2^32.
        long offsetDifference = b.Offset - a.Offset;
        bool negativeA = a.ExponentNegative;
        bool negativeB = b.ExponentNegative;
        if (negativeA != negativeB)
        {
            // |D| = |Ea| + |Eb| >= 10^18 (one of them is not small), which dwarfs any offset difference.
            return negativeA ? -1 : 1;
        }

        ReadOnlySpan<byte> digitsA = a.ExponentDigits;
        ReadOnlySpan<byte> digitsB = b.ExponentDigits;
        int magnitude = digitsA.Length != digitsB.Length
            ? digitsA.Length.CompareTo(digitsB.Length)
            : Math.Sign(digitsA.SequenceCompareTo(digitsB));
        if (magnitude == 0)
        {
            return 0L.CompareTo(offsetDifference);
        }

        int differenceSign = negativeA ? -magnitude : magnitude;
        bool small = magnitude > 0
            ? TrySubtractSmall(digitsA, digitsB, out long difference)
            : TrySubtractSmall(digitsB, digitsA, out difference);
        if (!small)
        {
            return differenceSign;
        }

        return (differenceSign * difference).CompareTo(offsetDifference);
    }

    /// <summary>
    /// Computes <paramref name="larger"/> - <paramref name="smaller"/> (decimal digit texts, larger &gt;= smaller)
    /// right to left without a buffer. Returns false when the difference is at least 10^12, which is all callers need.
    /// </summary>
    private static bool TrySubtractSmall(ReadOnlySpan<byte> larger, ReadOnlySpan<byte> smaller, out long difference)
    {
        difference = 0;
        long place = 1;
        int borrow = 0;
        bool large = false;
        for (int i = 0; i < larger.Length; i++)
        {
            int x = larger[larger.Length - 1 - i] - '0';
            int y = i < smaller.Length ? smaller[smaller.Length - 1 - i] - '0' : 0;
            int d = x - y - borrow;
            if (d < 0)
            {
                d += 10;
                borrow = 1;
            }
            else
            {
                borrow = 0;
            }

            if (i < SmallDifferenceDigits)
            {
                difference += d * place;
                place *= 10;
            }
            else if (d != 0)
            {
                large = true;
            }
        }

        return !large;
    }
}
