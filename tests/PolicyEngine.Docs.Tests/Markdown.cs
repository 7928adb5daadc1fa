using System.Reflection;
using System.Text.RegularExpressions;

namespace PolicyEngine.Docs.Tests;

/// <summary>A fenced code block of a Markdown file, with the hidden prelude that makes a fragment compile.</summary>
/// <param name="File">The file, relative to the repository root.</param>
/// <param name="Line">The 1-based line of the opening fence.</param>
/// <param name="Language">The fence's info string (<c>csharp</c>, <c>json</c>, ...).</param>
/// <param name="Code">The block's text.</param>
/// <param name="Prelude">
/// The text of a <c>&lt;!-- snippet-prelude ... --&gt;</c> comment just before the fence: declarations a fragment
/// assumes (a <c>builder</c>, a <c>policy</c>), hidden from the reader like rustdoc's <c>#</c> lines.
/// </param>
public sealed record CodeBlock(string File, int Line, string Language, string Code, string Prelude)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>Reads the repository's documentation: README.md, docs/*.md and each package's README.md.</summary>
public static partial class Markdown
{
    public static readonly string Root = typeof(Markdown).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>Every documentation file a user reads, relative to the repository root.</summary>
    public static IEnumerable<string> Files()
    {
        yield return "README.md";
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(Root, file);
        }

        foreach (var file in Directory.GetFiles(Path.Combine(Root, "src"), "README.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(Root, file);
        }
    }

    public static IEnumerable<CodeBlock> Blocks(string file)
    {
        var lines = System.IO.File.ReadAllLines(Path.Combine(Root, file));
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            var start = i;
            var body = new List<string>();
            for (i++; i < lines.Length && lines[i].TrimEnd() != open.Groups["ticks"].Value; i++)
            {
                body.Add(lines[i]);
            }

            yield return new CodeBlock(file, start + 1, open.Groups["lang"].Value, string.Join('\n', body), PreludeBefore(lines, start));
        }
    }

    /// <summary>The content of a <c>&lt;!-- snippet-prelude</c> comment ending just above the fence (other one-line comments may sit between).</summary>
    private static string PreludeBefore(string[] lines, int fence)
    {
        var i = fence - 1;
        while (i >= 0 && lines[i].TrimStart().StartsWith("<!--", StringComparison.Ordinal) && lines[i].TrimEnd().EndsWith("-->", StringComparison.Ordinal))
        {
            i--;
        }

        if (i < 0 || lines[i].Trim() != "-->")
        {
            return string.Empty;
        }

        var end = i;
        while (i >= 0 && !lines[i].TrimStart().StartsWith("<!--", StringComparison.Ordinal))
        {
            i--;
        }

        return i >= 0 && lines[i].Trim() == "<!-- snippet-prelude" ? string.Join('\n', lines[(i + 1)..end]) : string.Empty;
    }

    [GeneratedRegex("^(?<ticks>```+)(?<lang>[A-Za-z0-9_.+-]*)\\s*$")]
    private static partial Regex Fence();
}
