using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Tests.Security;

/// <summary>Strings over arbitrary UTF-16: lone and paired surrogates, U+FFFD, quotes, backslashes, NUL and random units.</summary>
internal static class Utf16Generators
{
    private static readonly char[] Interesting =
    [
        'u', 'a', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D', '\uDE00', '\uFFFD', '"', '\\', '\0', '\u001F', 'é', '/',
    ];

    /// <summary>One code unit, biased towards the ones encoders get wrong.</summary>
    public static Gen<char> Unit() =>
        Gen.Frequency(
            (3, Gen.Elements(Interesting)),
            (1, Gen.Choose(0, 0xFFFF).Select(i => (char)i)));

    /// <summary>A string of 0 to 6 such units.</summary>
    public static Gen<string> Text() =>
        Gen.Choose(0, 6).SelectMany(length => Unit().ArrayOf(length)).Select(units => new string(units));

    /// <summary>Two different strings, often differing only in one surrogate or in U+FFFD.</summary>
    public static Gen<(string A, string B)> DistinctPair() =>
        Gen.Frequency(
            (1, Text().SelectMany(a => Text().Select(b => (a, b)))),
            (2, Text().SelectMany(prefix => Gen.Elements('\uD800', '\uDC00', '\uDBFF', '\uFFFD', '\uDFFF').Two().Select(t => (prefix + t.Item1, prefix + t.Item2)))))
        .Where(pair => !string.Equals(pair.Item1, pair.Item2, StringComparison.Ordinal));

    /// <summary>A JSON string literal denoting exactly <paramref name="value"/>: every unit escaped as <c>\uXXXX</c>.</summary>
    public static string JsonLiteral(string value)
    {
        var builder = new StringBuilder(value.Length * 6 + 2).Append('"');
        foreach (var unit in value)
        {
            builder.Append("\\u").Append(((int)unit).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }

        return builder.Append('"').ToString();
    }
}
