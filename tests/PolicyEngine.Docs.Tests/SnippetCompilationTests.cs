using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace PolicyEngine.Docs.Tests;

/// <summary>
/// Every C# block of README.md, docs/ and the package READMEs compiles against the packages it names, with the
/// implicit usings of a new project (<c>dotnet new console</c>). A fragment may rely on a hidden
/// <c>&lt;!-- snippet-prelude --&gt;</c> for the variables it assumes; whatever the reader copies is what is compiled.
/// </summary>
public class SnippetCompilationTests
{
    // The global usings the .NET SDK adds to a project with ImplicitUsings (Microsoft.NET.Sdk).
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))]);

    public static TheoryData<string> Snippets()
    {
        var data = new TheoryData<string>();
        foreach (var file in Markdown.Files())
        {
            foreach (var block in Markdown.Blocks(file).Where(b => b.Language is "csharp" or "cs" or "c#"))
            {
                data.Add(block.ToString());
            }
        }

        return data;
    }

    [Fact]
    public void TheDocsHaveSnippets() =>
        Assert.True(Snippets().Count >= 12, $"only {Snippets().Count} C# blocks found under {Markdown.Root}");

    [Theory]
    [MemberData(nameof(Snippets))]
    public void Snippet_Compiles(string location)
    {
        var block = Markdown.Files().SelectMany(Markdown.Blocks).Single(b => b.ToString() == location);
        var source = Compose(block);
        var ct = TestContext.Current.CancellationToken;
        var tree = CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Preview), path: block.File, cancellationToken: ct);
        var isProgram = tree.GetCompilationUnitRoot(ct).Members.OfType<GlobalStatementSyntax>().Any();
        var compilation = CSharpCompilation.Create(
            "Snippet",
            [tree, CSharpSyntaxTree.ParseText(ImplicitUsings, new CSharpParseOptions(LanguageVersion.Preview), cancellationToken: ct)],
            References.Value,
            new CSharpCompilationOptions(isProgram ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics(ct).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();

        Assert.True(errors.Count == 0, $"{location} does not compile:\n{string.Join('\n', errors)}\n--- compiled as ---\n{source}");
    }

    /// <summary>
    /// The prelude's using directives, then the snippet's own leading using directives, then the prelude's other
    /// lines, then the rest of the snippet (using directives must come before any statement).
    /// </summary>
    internal static string Compose(CodeBlock block)
    {
        static bool IsUsing(string line) =>
            line.StartsWith("using ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(';') && !line.Contains('(', StringComparison.Ordinal) && !line.Contains(" var ", StringComparison.Ordinal)
            || line.StartsWith("global using ", StringComparison.Ordinal);

        var prelude = block.Prelude.Split('\n');
        var code = block.Code.Split('\n');
        var leading = code.TakeWhile(l => IsUsing(l) || l.Trim().Length == 0 || l.TrimStart().StartsWith("//", StringComparison.Ordinal)).ToList();
        return string.Join('\n', [.. prelude.Where(IsUsing), .. leading, .. prelude.Where(l => !IsUsing(l)), .. code.Skip(leading.Count)]);
    }
}
