using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Matching;

namespace PolicyEngine.Tests.Matching;

public class GlobTests
{
    [Theory]
    [InlineData("*", "")]
    [InlineData("*", "anything/at/all")]
    [InlineData("fs_*", "fs_")]
    [InlineData("fs_*", "fs_read")]
    [InlineData("fs_*", "fs_read/write")]
    [InlineData("*_file", "read_file")]
    [InlineData("a*b*c", "abc")]
    [InlineData("a*b*c", "aXbYbZc")]
    [InlineData("?", "x")]
    [InlineData("??", "\ud83d\ude00")]
    [InlineData("a?c", "abc")]
    [InlineData("**", "")]
    [InlineData("*?", "x")]
    [InlineData("exact", "exact")]
    [InlineData("", "")]
    [InlineData("a.b[c]+", "a.b[c]+")]
    [InlineData("a\0b", "a\0b")]
    public void IsMatch_MatchingText_ReturnsTrue(string pattern, string text)
    {
        Assert.True(Glob.IsMatch(pattern, text));
    }

    [Theory]
    [InlineData("fs_*", "fs")]
    [InlineData("fs_*", "xfs_read")]
    [InlineData("*_file", "read_files")]
    [InlineData("?", "")]
    [InlineData("?", "ab")]
    [InlineData("?", "\ud83d\ude00")]
    [InlineData("a?c", "ac")]
    [InlineData("exact", "Exact")]
    [InlineData("exact", "exact ")]
    [InlineData("", "a")]
    [InlineData("*?", "")]
    [InlineData("a.c", "abc")]
    [InlineData("a*b*c", "aXbYbZ")]
    [InlineData(null, "")]
    public void IsMatch_NonMatchingText_ReturnsFalse(string? pattern, string text)
    {
        Assert.False(Glob.IsMatch(pattern, text));
    }

    [Fact]
    public void IsMatch_AdversarialPattern_FinishesQuickly()
    {
        string pattern = string.Concat(Enumerable.Repeat("*a", 200)) + "b";
        string text = new string('a', 20_000);
        var watch = Stopwatch.StartNew();
        Assert.False(Glob.IsMatch(pattern, text));
        Assert.True(watch.ElapsedMilliseconds < 2_000, $"took {watch.ElapsedMilliseconds} ms");
    }

    [Theory]
    [InlineData("fs_*", 3)]
    [InlineData("*", 0)]
    [InlineData("ab?d*", 2)]
    [InlineData("exact", 5)]
    [InlineData("", 0)]
    public void LiteralPrefixLength_Pattern_CountsCharsBeforeFirstWildcard(string pattern, int expected)
    {
        Assert.Equal(expected, Glob.LiteralPrefixLength(pattern));
        Assert.Equal(expected != pattern.Length, Glob.HasWildcard(pattern));
    }

    [Theory]
    [InlineData("fs_*", "*_read", true)]
    [InlineData("fs_*", "fs_read", true)]
    [InlineData("fs_*", "db_*", false)]
    [InlineData("a*", "*b", true)]
    [InlineData("a?", "?b", true)]
    [InlineData("a?", "abc", false)]
    [InlineData("???", "*", true)]
    [InlineData("???", "??", false)]
    [InlineData("*x*", "*y*", true)]
    [InlineData("a*a", "a", false)]
    [InlineData("a*a", "aa", true)]
    [InlineData("", "*", true)]
    [InlineData("", "?", false)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exacT", false)]
    [InlineData("*ab", "*ba", false)]
    [InlineData("*ab*", "*ba*", true)]
    public void Intersects_PatternPair_ReportsWhetherSomeStringMatchesBoth(string p, string q, bool expected)
    {
        Assert.Equal(expected, Glob.Intersects(p, q));
        Assert.Equal(expected, Glob.Intersects(q, p));
    }

    private static string ToRegex(string pattern)
    {
        var builder = new StringBuilder("^");
        foreach (char c in pattern)
        {
            builder.Append(c switch
            {
                '*' => ".*",
                '?' => ".",
                _ => Regex.Escape(c.ToString()),
            });
        }

        return builder.Append(@"\z").ToString();
    }

    private static Gen<string> Strings(params char[] alphabet) => Strings(12, alphabet);

    private static Gen<string> Strings(int maxLength, params char[] alphabet) =>
        Gen.Elements(alphabet).ArrayOf().Select(c => new string(c, 0, Math.Min(c.Length, maxLength)));

    [Property(MaxTest = 500)]
    public Property IsMatch_RandomInputs_AgreesWithRegex()
    {
        return Prop.ForAll(Strings('a', 'b', '*', '?', '.', '\n').ToArbitrary(), Strings('a', 'b', '.', '\n', '/').ToArbitrary(), (pattern, text) =>
            Glob.IsMatch(pattern, text) == Regex.IsMatch(text, ToRegex(pattern), RegexOptions.Singleline | RegexOptions.CultureInvariant));
    }

    [Property(MaxTest = 500)]
    public Property Intersects_StringMatchingBoth_ReturnsTrue()
    {
        return Prop.ForAll(Strings('a', 'b', '*', '?').ToArbitrary(), Strings('a', 'b', '*', '?').ToArbitrary(), Strings('a', 'b', 'c').ToArbitrary(), (p, q, text) =>
            !(Glob.IsMatch(p, text) && Glob.IsMatch(q, text)) || Glob.Intersects(p, q));
    }

    [Property(MaxTest = 300)]
    public Property Intersects_ReturnsTrue_OnlyWhenAWitnessExists()
    {
        // Every character of a shortest common match advances at least one of the two patterns, so a witness, if any,
        // has length at most |p| + |q| over the patterns' letters plus one fresh letter: a bounded search is exhaustive.
        return Prop.ForAll(Strings(4, 'a', 'b', '*', '?').ToArbitrary(), Strings(4, 'a', 'b', '*', '?').ToArbitrary(), (p, q) =>
        {
            int maxLength = p.Length + q.Length;
            return Glob.Intersects(p, q) == Witnesses("abc", maxLength).Any(w => Glob.IsMatch(p, w) && Glob.IsMatch(q, w));
        });
    }

    private static IEnumerable<string> Witnesses(string alphabet, int maxLength)
    {
        yield return string.Empty;
        var current = new List<string> { string.Empty };
        for (int length = 1; length <= maxLength; length++)
        {
            var next = new List<string>();
            foreach (string prefix in current)
            {
                foreach (char c in alphabet)
                {
                    string candidate = prefix + c;
                    next.Add(candidate);
                    yield return candidate;
                }
            }

            current = next;
        }
    }
}
