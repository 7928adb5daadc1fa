namespace PolicyEngine.Json.Numbers;

/// <summary>
/// An allocation-free view of a JSON number's text, split into the pieces needed to compare it exactly.
/// </summary>
/// <remarks>
/// The number is read as <c>S × 10^(E - Frac.Length)</c> where <c>S = Int ++ Frac</c> (the written digits without the
/// point). The significant digits are <c>S[First..Last]</c>; the place value of <c>S[First]</c> (the "adjusted
/// exponent") is <c>E + Offset</c>. Nothing is copied: the spans point into the caller's text, so a 10,000-digit
/// number costs one linear scan and no memory. The written exponent <c>E</c> may have any number of digits; it is kept
/// as text (<see cref="ExponentDigits"/>) and only also as a <see cref="long"/> when it has at most 18 digits, because
/// the offset (bounded by the text length, below 2^31) can then be added without overflow.
/// </remarks>
internal readonly ref struct NumberParts
{
    /// <summary>Exponents with more digits than this are compared as text, never converted.</summary>
    internal const int MaxSmallExponentDigits = 18;

    /// <summary>Digits before the decimal point, as written.</summary>
    public readonly ReadOnlySpan<byte> Int;

    /// <summary>Digits after the decimal point, as written (empty when there is no point).</summary>
    public readonly ReadOnlySpan<byte> Frac;

    /// <summary>Index in <c>Int ++ Frac</c> of the first non-zero digit, or -1 when the value is zero.</summary>
    public readonly int First;

    /// <summary>Index in <c>Int ++ Frac</c> of the last non-zero digit, or -1 when the value is zero.</summary>
    public readonly int Last;

    /// <summary>True for a negative non-zero value; <c>-0</c> is normalised to not negative.</summary>
    public readonly bool Negative;

    /// <summary>The written exponent's magnitude without leading zeros (empty for zero or no exponent).</summary>
    public readonly ReadOnlySpan<byte> ExponentDigits;

    /// <summary>True when the written exponent is negative and non-zero.</summary>
    public readonly bool ExponentNegative;

    /// <summary>The written exponent when it has at most 18 digits, else 0 (see <see cref="ExponentIsSmall"/>).</summary>
    public readonly long SmallExponent;

    /// <summary><c>Int.Length - 1 - First</c>: adds to the written exponent to give the adjusted exponent.</summary>
    public readonly long Offset;

    private NumberParts(
        ReadOnlySpan<byte> intDigits,
        ReadOnlySpan<byte> fracDigits,
        int first,
        int last,
        bool negative,
        ReadOnlySpan<byte> exponentDigits,
        bool exponentNegative,
        long smallExponent)
    {
        Int = intDigits;
        Frac = fracDigits;
        First = first;
        Last = last;
        Negative = negative;
        ExponentDigits = exponentDigits;
        ExponentNegative = exponentNegative;
        SmallExponent = smallExponent;
        Offset = (long)intDigits.Length - 1 - first;
    }

    /// <summary>True when the value is zero (any sign, any exponent).</summary>
    public bool IsZero => First < 0;

    /// <summary>-1, 0 or 1.</summary>
    public int Sign => IsZero ? 0 : Negative ? -1 : 1;

    /// <summary>The number of significant digits (0 for zero).</summary>
    public int DigitCount => IsZero ? 0 : Last - First + 1;

    /// <summary>True when <see cref="AdjustedExponent"/> can be used (the written exponent has at most 18 digits).</summary>
    public bool ExponentIsSmall => ExponentDigits.Length <= MaxSmallExponentDigits;

    /// <summary>The place value exponent of the first significant digit; valid only when <see cref="ExponentIsSmall"/>.</summary>
    public long AdjustedExponent => SmallExponent + Offset;

    /// <summary>The <paramref name="index"/>-th significant digit as an ASCII byte.</summary>
    public byte DigitAt(int index)
    {
        int i = First + index;
        return i < Int.Length ? Int[i] : Frac[i - Int.Length];
    }

    /// <summary>
    /// Splits the significant digits <c>[start, start + count)</c> into at most two contiguous pieces of the original
    /// text (before and after the decimal point), so callers can copy them in bulk.
    /// </summary>
    public void SliceDigits(int start, int count, out ReadOnlySpan<byte> first, out ReadOnlySpan<byte> second)
    {
        int from = First + start;
        int to = from + count;
        if (to <= Int.Length)
        {
            first = Int[from..to];
            second = default;
        }
        else if (from >= Int.Length)
        {
            first = Frac[(from - Int.Length)..(to - Int.Length)];
            second = default;
        }
        else
        {
            first = Int[from..];
            second = Frac[..(to - Int.Length)];
        }
    }

    /// <summary>
    /// Parses RFC 8259 number text. Returns false (never throws) for anything else, including leading zeros such as
    /// <c>01</c>, a bare point, or trailing garbage.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out NumberParts parts)
    {
        parts = default;
        int pos = 0;
        bool negative = false;
        if (pos < text.Length && text[pos] == (byte)'-')
        {
            negative = true;
            pos++;
        }

        int intStart = pos;
        if (pos >= text.Length)
        {
            return false;
        }

        if (text[pos] == (byte)'0')
        {
            pos++;
        }
        else if (IsDigit(text[pos]))
        {
            while (pos < text.Length && IsDigit(text[pos]))
            {
                pos++;
            }
        }
        else
        {
            return false;
        }

        ReadOnlySpan<byte> intDigits = text[intStart..pos];
        ReadOnlySpan<byte> fracDigits = default;
        if (pos < text.Length && text[pos] == (byte)'.')
        {
            pos++;
            int fracStart = pos;
            while (pos < text.Length && IsDigit(text[pos]))
            {
                pos++;
            }

            if (pos == fracStart)
            {
                return false;
            }

            fracDigits = text[fracStart..pos];
        }

        ReadOnlySpan<byte> exponentDigits = default;
        bool exponentNegative = false;
        long smallExponent = 0;
        if (pos < text.Length && (text[pos] == (byte)'e' || text[pos] == (byte)'E'))
        {
            pos++;
            if (pos < text.Length && (text[pos] == (byte)'+' || text[pos] == (byte)'-'))
            {
                exponentNegative = text[pos] == (byte)'-';
                pos++;
            }

            int expStart = pos;
            while (pos < text.Length && IsDigit(text[pos]))
            {
                pos++;
            }

            if (pos == expStart)
            {
                return false;
            }

            // Leading zeros carry no value; dropping them lets magnitudes be compared by length first.
            while (expStart < pos && text[expStart] == (byte)'0')
            {
                expStart++;
            }

            exponentDigits = text[expStart..pos];
            if (exponentDigits.IsEmpty)
            {
                exponentNegative = false;
            }
            else if (exponentDigits.Length <= MaxSmallExponentDigits)
            {
                for (int i = 0; i < exponentDigits.Length; i++)
                {
                    smallExponent = (smallExponent * 10) + (exponentDigits[i] - '0');
                }

                if (exponentNegative)
                {
                    smallExponent = -smallExponent;
                }
            }
        }

        if (pos != text.Length)
        {
            return false;
        }

        int first = FirstNonZero(intDigits);
        if (first < 0)
        {
            int inFrac = FirstNonZero(fracDigits);
            first = inFrac < 0 ? -1 : intDigits.Length + inFrac;
        }

        int last = -1;
        if (first >= 0)
        {
            int inFrac = LastNonZero(fracDigits);
            last = inFrac >= 0 ? intDigits.Length + inFrac : LastNonZero(intDigits);
        }

        parts = new NumberParts(
            intDigits,
            fracDigits,
            first,
            last,
            negative && first >= 0,
            exponentDigits,
            exponentNegative,
            smallExponent);
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static int FirstNonZero(ReadOnlySpan<byte> digits) => digits.IndexOfAnyExcept((byte)'0');

    private static int LastNonZero(ReadOnlySpan<byte> digits) => digits.LastIndexOfAnyExcept((byte)'0');
}
