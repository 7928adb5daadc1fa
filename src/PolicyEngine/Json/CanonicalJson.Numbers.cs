using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;
using PolicyEngine.Json.Numbers;

namespace PolicyEngine.Json;

// Canonical JSON, numbers: one spelling for every JSON number, computed from its digits.
internal static partial class CanonicalJson
{
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
