using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Matching;

namespace PolicyEngine.Tests.Matching;

public class PathUnderTests
{
    private static bool Under(string argument, string root)
    {
        Assert.True(PathUnder.TryNormalizeRoot(root, out NormalizedPath normalized));
        return PathUnder.IsUnder(argument, in normalized);
    }

    [Theory]
    [InlineData("/workspace", "/workspace")]
    [InlineData("/workspace/", "/workspace")]
    [InlineData("/workspace/a.txt", "/workspace")]
    [InlineData("/workspace/./a//b/../c", "/workspace")]
    [InlineData("//workspace///a", "/workspace")]
    [InlineData("\\workspace\\a", "/workspace")]
    [InlineData("/workspace\\a/b", "/workspace/")]
    [InlineData("/a/../workspace/x", "/workspace")]
    [InlineData("/workspace/a/..", "/workspace")]
    [InlineData("/workspace/x/../../workspace/y", "/workspace")]
    [InlineData("/workspace/...", "/workspace")]
    [InlineData("/workspace/..a", "/workspace")]
    [InlineData("/anything/at/all", "/")]
    [InlineData("/", "/")]
    [InlineData("\\", "/")]
    [InlineData("/x", "/workspace/..")]
    [InlineData("/w/s", "/w/./x/../s/")]
    [InlineData("C:\\Users\\me\\file", "C:\\Users")]
    [InlineData("C:/Users/me", "C:\\Users\\")]
    [InlineData("C:\\", "C:/")]
    public void IsUnder_InsideOrEqual_ReturnsTrue(string argument, string root)
    {
        Assert.True(Under(argument, root));
    }

    [Theory]
    [InlineData("/workspace2", "/workspace")]
    [InlineData("/workspace2/x", "/workspace")]
    [InlineData("/Workspace/x", "/workspace")]
    [InlineData("/workspace/../workspace2/x", "/workspace")]
    [InlineData("/workspace/..", "/workspace")]
    [InlineData("/workspace/a/../..", "/workspace")]
    [InlineData("/workspace/../etc/passwd", "/workspace")]
    [InlineData("/..", "/")]
    [InlineData("/../workspace/x", "/workspace")]
    [InlineData("/workspace/../../workspace/x", "/workspace")]
    [InlineData("/x/../../workspace", "/")]
    [InlineData("/work", "/workspace")]
    [InlineData("/", "/workspace")]
    [InlineData("workspace/x", "/workspace")]
    [InlineData("./workspace", "/workspace")]
    [InlineData("", "/")]
    [InlineData("~/x", "/")]
    [InlineData("/workspace/a\0b", "/workspace")]
    [InlineData("\0/workspace", "/")]
    [InlineData("C:\\Users\\me", "/")]
    [InlineData("/Users/me", "C:\\Users")]
    [InlineData("c:\\Users\\me", "C:\\Users")]
    [InlineData("D:\\Users\\me", "C:\\Users")]
    [InlineData("C:Users\\me", "C:\\Users")]
    [InlineData("C:", "C:\\")]
    [InlineData("1:\\Users", "/")]
    [InlineData("/workspace /x", "/workspace")]
    public void IsUnder_OutsideOrInvalid_ReturnsFalse(string argument, string root)
    {
        Assert.False(Under(argument, root));
    }

    [Theory]
    [InlineData("relative")]
    [InlineData("./x")]
    [InlineData("")]
    [InlineData("/..")]
    [InlineData("/a/../..")]
    [InlineData("/a\0")]
    [InlineData("C:")]
    [InlineData("C:relative")]
    [InlineData(null)]
    public void TryNormalizeRoot_InvalidRoot_ReturnsFalse(string? root)
    {
        Assert.False(PathUnder.TryNormalizeRoot(root, out _));
    }

    [Theory]
    [InlineData("/workspace/./a//b/../", "/workspace/a")]
    [InlineData("\\", "/")]
    [InlineData("C:\\x\\..\\y", "C:/y")]
    public void TryNormalizeRoot_ValidRoot_Normalises(string root, string expected)
    {
        Assert.True(PathUnder.TryNormalizeRoot(root, out NormalizedPath normalized));
        Assert.Equal(expected, normalized.ToString());
    }

    [Fact]
    public void IsUnder_DefaultRoot_ReturnsFalse()
    {
        Assert.False(PathUnder.IsUnder("/x", default));
    }

    [Fact]
    public void IsUnder_HugeArgument_DoesNotAllocateOrThrow()
    {
        Assert.True(PathUnder.TryNormalizeRoot("/w", out NormalizedPath root));
        string deep = "/w" + string.Concat(Enumerable.Repeat("/a", 100_000)) + string.Concat(Enumerable.Repeat("/..", 100_000));
        PathUnder.IsUnder(deep, in root);
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool result = PathUnder.IsUnder(deep, in root);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(result);
    }

    private static Gen<string> Segment() => Gen.Elements("a", "b", "w", ".", "..", "", "...", "a.b");

    private static Gen<string> PathText() =>
        from segments in Segment().ListOf()
        from separators in Gen.Elements("/", "\\", "//").ListOf()
        select string.Concat(segments.Take(8).Select((s, i) => (separators.Count > 0 ? separators[i % separators.Count] : "/") + s));

    private static Gen<string> RootText() =>
        from segments in Gen.Elements("a", "b", "w").ListOf()
        select "/" + string.Join("/", segments.Take(3));

    /// <summary>A straightforward (allocating) reference implementation of the same rules.</summary>
    private static List<string>? Reference(string path)
    {
        var stack = new List<string>();
        foreach (string segment in path.Split('/', '\\'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (stack.Count == 0)
                {
                    return null;
                }

                stack.RemoveAt(stack.Count - 1);
                continue;
            }

            stack.Add(segment);
        }

        return stack;
    }

    [Property(MaxTest = 500)]
    public Property IsUnder_RandomPaths_AgreesWithReferenceImplementation()
    {
        return Prop.ForAll(PathText().ToArbitrary(), RootText().ToArbitrary(), (argument, root) =>
        {
            if (argument.Length == 0)
            {
                return true;
            }

            List<string>? normalized = Reference(argument);
            List<string> rootSegments = Reference(root)!;
            bool expected = normalized is not null && normalized.Count >= rootSegments.Count
                && normalized.Take(rootSegments.Count).SequenceEqual(rootSegments, StringComparer.Ordinal);
            return Under(argument, root) == expected;
        });
    }

    [Property(MaxTest = 500)]
    public Property IsUnder_PathClimbingAboveFilesystemRoot_NeverHolds()
    {
        return Prop.ForAll(PathText().ToArbitrary(), PathText().ToArbitrary(), RootText().ToArbitrary(), (prefix, suffix, root) =>
        {
            // Make the prefix climb exactly one level above the filesystem root, whatever it contained.
            List<string> segments = Reference(prefix) ?? [];
            string climbing = prefix.Length == 0 || Reference(prefix) is null
                ? "/.."
                : prefix + string.Concat(Enumerable.Repeat("/..", segments.Count + 1));
            return !Under(climbing + suffix, root) && !Under(climbing + suffix, "/");
        });
    }
    private static bool Unusual(string argument, string root)
    {
        Assert.True(PathUnder.TryNormalizeRoot(root, out NormalizedPath normalized));
        return PathUnder.IsUnusual(argument, in normalized);
    }

    [Theory]
    [InlineData("//workspace/a", "/workspace")]             // implementation-defined root / UNC
    [InlineData("\\\\server\\share\\x", "C:\\work")]   // UNC
    [InlineData("/\\workspace/a", "/workspace")]
    [InlineData("/workspace\\a", "/workspace")]            // backslash under a POSIX directory
    [InlineData("/workspace/%2e%2e/etc", "/workspace")]      // percent-encoded dots
    [InlineData("/workspace/%2F..%2Fetc", "/workspace")]
    [InlineData("/workspace/a%00", "/workspace")]
    [InlineData("/workspace/\uFF0E\uFF0E/etc", "/workspace")] // full-width full stops
    [InlineData("/workspace/\u2024\u2024/etc", "/workspace")] // one-dot leaders
    [InlineData("/workspace/\u2025/etc", "/workspace")]      // two-dot leader
    [InlineData("/workspace\uFF0F..\uFF0Fetc", "/workspace")] // full-width solidus
    [InlineData("/workspace/.. /etc", "/workspace")]          // a segment ending in a space
    [InlineData("/workspace/.../etc", "/workspace")]          // a segment ending in a dot
    [InlineData("/workspace/file.", "/workspace")]
    [InlineData("C:\\work\\.. \\x", "C:\\work")]
    [InlineData("/workspace/a\nb", "/workspace")]           // control characters
    [InlineData("/workspace/a\u007Fb", "/workspace")]
    [InlineData("/workspace/a\u0000", "/workspace")]
    [InlineData("/workspace/\u200B../etc", "/workspace")]    // zero-width space
    public void IsUnusual_FormsAToolMightReadDifferently_ReturnsTrue(string argument, string root)
    {
        Assert.True(Unusual(argument, root));
    }

    [Theory]
    [InlineData("/workspace/a/b.txt", "/workspace")]
    [InlineData("/workspace/./a/../b", "/workspace")]
    [InlineData("/workspace/.hidden", "/workspace")]
    [InlineData("/workspace/100%", "/workspace")]            // a percent sign that encodes nothing
    [InlineData("/workspace/%zz", "/workspace")]
    [InlineData("/workspace/caf\u00E9/r\u00E9sum\u00E9.pdf", "/workspace")]
    [InlineData("C:\\work\\a\\b", "C:\\work")]               // backslashes under a Windows directory
    [InlineData("C:/work/a", "C:\\work")]
    [InlineData("\\work\\a", "\\work")]
    [InlineData("/workspace/a b/c", "/workspace")]
    public void IsUnusual_OrdinaryPaths_ReturnsFalse(string argument, string root)
    {
        Assert.False(Unusual(argument, root));
    }
}
