using System.Text.RegularExpressions;

namespace PolicyEngine.Tests;

/// <summary>
/// The core's layout rules (src/PolicyEngine/ARCHITECTURE.md), read from the source tree: internal types take their
/// folder's namespace and public types stay in <c>PolicyEngine</c>; no folder names a type of a folder later in the
/// dependency order (so the folder graph has no cycle); no file grows past the size a reader takes in.
/// <c>tools/folder_graph.py</c> prints the same graph with the types behind each edge.
/// </summary>
public partial class ArchitectureTests
{
    /// <summary>Machinery first, then the document, the stores and result vocabulary, then compiling and evaluating.</summary>
    private static readonly string[] Order =
    [
        "Json/Numbers", "Json", "Matching", "Documents", "Documents/Parsing", "Identity", "Counters", "Approvals",
        "Decisions", "Diagnostics", "Compilation/Predicates", "Compilation", "Evaluation", "Shadow", "Analysis",
    ];

    private const int MaxLines = 400;

    private static readonly string Core = Path.Combine(RepositoryRoot(), "src", "PolicyEngine");

    private static readonly SourceFile[] Files = Directory.GetFiles(Core, "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)
        .Select(f => new SourceFile(f, Path.GetRelativePath(Core, Path.GetDirectoryName(f)!).Replace('\\', '/'), File.ReadAllText(f)))
        .ToArray();

    [Fact]
    public void Namespaces_InternalTypesFollowTheirFolder_PublicTypesStayInPolicyEngine()
    {
        var wrong = new List<string>();
        foreach (var file in Files)
        {
            var types = Declarations().Matches(file.Code).ToList();
            if (types.Count == 0)
            {
                continue;
            }

            var isPublic = types.Any(t => t.Groups["mods"].Value.Contains("public", StringComparison.Ordinal));
            var expected = isPublic || file.Folder == "." ? "PolicyEngine" : "PolicyEngine." + file.Folder.Replace('/', '.');
            var actual = Namespace().Match(file.Text).Groups[1].Value;
            if (actual != expected)
            {
                wrong.Add($"{file.Folder}/{Path.GetFileName(file.Path)}: namespace {actual}, expected {expected}");
            }
        }

        Assert.True(wrong.Count == 0, "run python3 tools/fix_namespaces.py:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void Folders_NameNoTypeOfALaterFolder()
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            foreach (Match type in Declarations().Matches(file.Code))
            {
                var name = type.Groups["name"].Value;
                if (!owners.ContainsKey(name) || Path.GetFileNameWithoutExtension(file.Path).Split('.')[0] == name)
                {
                    owners[name] = file.Folder;
                }
            }
        }

        var late = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Files.Where(f => f.Folder != "."))
        {
            Assert.Contains(file.Folder, Order);
            var rank = Array.IndexOf(Order, file.Folder);
            foreach (Match reference in TypeNames().Matches(file.Code))
            {
                if (owners.TryGetValue(reference.Value, out var folder) && Array.IndexOf(Order, folder) > rank)
                {
                    late.Add($"{file.Folder} -> {folder} ({reference.Value}, in {Path.GetFileName(file.Path)})");
                }
            }
        }

        Assert.True(late.Count == 0, "these references point later in the folder order (see src/PolicyEngine/ARCHITECTURE.md):\n" + string.Join("\n", late));
    }

    [Fact]
    public void Files_StayUnderTheSizeAReaderTakesIn()
    {
        var big = Files.Select(f => (f.Path, Lines: f.Text.Count(c => c == '\n')))
            .Where(f => f.Lines > MaxLines)
            .Select(f => $"{Path.GetRelativePath(Core, f.Path)}: {f.Lines} lines")
            .ToList();

        Assert.True(big.Count == 0, $"split by concern (partials per job) below {MaxLines} lines:\n" + string.Join("\n", big));
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "PolicyEngine.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (with PolicyEngine.sln) is not above " + AppContext.BaseDirectory);
    }

    private sealed record SourceFile(string Path, string Folder, string Text)
    {
        /// <summary>The code without comments, string and character literals, or enum members (which name no type).</summary>
        public string Code { get; } = EnumBodies().Replace(Literals().Replace(Text, string.Empty), "${head}}");
    }

    [GeneratedRegex(@"""""""[\s\S]*?""""""|//[^\n]*|/\*[\s\S]*?\*/|@""(?:[^""]|"""")*""|(?<![$\w])""(?:\\.|[^""\\\n])*""|'(?:\\.|[^'\\\n])+'")]
    private static partial Regex Literals();

    [GeneratedRegex(@"(?<head>\benum\s+\w+[^{]*\{)[^}]*\}")]
    private static partial Regex EnumBodies();

    [GeneratedRegex(@"^(?<mods>(?:(?:public|internal|private|protected|static|sealed|abstract|readonly|partial|ref|unsafe|file)\s+)*)(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+(?<name>\w+)", RegexOptions.Multiline)]
    private static partial Regex Declarations();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex Namespace();

    [GeneratedRegex(@"(?<![.\w])[A-Z]\w*\b")]
    private static partial Regex TypeNames();
}
