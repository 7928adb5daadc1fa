using System.Globalization;
using System.Text;

namespace PolicyEngine.Intercept.Go;

/// <summary>Go's <c>%q</c> (<c>strconv.Quote</c>), which Intercept uses for names in its generated messages.</summary>
internal static class GoQuote
{
    public static string Quote(string text)
    {
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var rune in text.EnumerateRunes())
        {
            var value = rune.Value;
            switch (value)
            {
                case '"':
                    builder.Append("\\\"");
                    continue;
                case '\\':
                    builder.Append("\\\\");
                    continue;
                case 7:
                    builder.Append("\\a");
                    continue;
                case 8:
                    builder.Append("\\b");
                    continue;
                case 12:
                    builder.Append("\\f");
                    continue;
                case '\n':
                    builder.Append("\\n");
                    continue;
                case '\r':
                    builder.Append("\\r");
                    continue;
                case '\t':
                    builder.Append("\\t");
                    continue;
                case 11:
                    builder.Append("\\v");
                    continue;
            }

            if (IsPrint(rune))
            {
                builder.Append(rune.ToString());
            }
            else if (value < ' ' || value == 0x7F)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{value:x2}");
            }
            else if (value < 0x10000)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{value:x4}");
            }
            else
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\U{value:x8}");
            }
        }

        return builder.Append('"').ToString();
    }

    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    private static bool IsPrint(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => true,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => true,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => true,
        UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
            or UnicodeCategory.OtherSymbol => true,
        _ => false,
    };
}
