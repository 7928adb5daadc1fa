using System.Text;
using System.Text.Json;
using PolicyEngine.Documents;

namespace PolicyEngine.Tests.Documents;

/// <summary>
/// Runs the validation corpus (Corpus/README.md): every valid document parses, round-trips and passes the
/// published schema; every invalid case is rejected with the expected pointers, and the schema agrees unless
/// the case is marked semantic.
/// </summary>
public class CorpusTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Corpus");

    public static TheoryData<string> ValidFiles() =>
        new(Directory.GetFiles(Path.Combine(Root, "valid"), "*.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    public static TheoryData<string> InvalidFiles() =>
        new(Directory.GetFiles(Path.Combine(Root, "invalid"), "*.case.json").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Parse_ValidCorpusDocument_SucceedsAndRoundTrips(string file)
    {
        var bytes = File.ReadAllBytes(Path.Combine(Root, "valid", file));

        var ok = PolicyDocument.TryParse(bytes, out var document, out var errors);

        Assert.True(ok, string.Join(Environment.NewLine, errors));
        var reparsed = PolicyDocument.Parse(document!.ToJson());
        Assert.Equal(document, reparsed);
        Assert.Equal(document.ToJson(), reparsed.ToJson());
    }

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Schema_ValidCorpusDocument_Passes(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "valid", file)));
        var version = json.RootElement.GetProperty("version").GetString()!;

        Assert.Empty(PolicySchemas.Validate(json.RootElement, version));
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Parse_InvalidCorpusCase_ReportsExpectedPointers(string file)
    {
        var testCase = Load(file);

        var ok = PolicyDocument.TryParse(testCase.Text, out _, out var errors);

        Assert.False(ok, $"{file}: {testCase.Description} was accepted");
        foreach (var (pointer, fragment) in testCase.Expected)
        {
            Assert.True(
                errors.Any(e => e.Pointer == pointer && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase)),
                $"{file}: expected an error at \"{pointer}\" mentioning \"{fragment}\"; got:{Environment.NewLine}{string.Join(Environment.NewLine, errors)}");
        }
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Schema_InvalidCorpusCase_AgreesWithParserUnlessSemantic(string file)
    {
        var testCase = Load(file);
        if (testCase.Document is not { } document)
        {
            return; // Raw-text cases (syntax, duplicate keys) are not JSON values a schema can see.
        }

        var version = document.ValueKind == JsonValueKind.Object && document.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "2";
        var schemaErrors = version is "1" or "2" ? PolicySchemas.Validate(document, version) : [new PolicyError("", "unknown version")];

        if (testCase.Semantic)
        {
            Assert.Empty(schemaErrors);
        }
        else
        {
            Assert.NotEmpty(schemaErrors);
        }
    }

    private sealed record Case(string Description, string Text, JsonElement? Document, bool Semantic, List<(string Pointer, string Fragment)> Expected);

    private static Case Load(string file)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Root, "invalid", file)));
        var root = json.RootElement;
        JsonElement? document = root.TryGetProperty("document", out var d) ? d.Clone() : null;
        var text = document is { } value ? value.GetRawText() : root.GetProperty("document_text").GetString()!;
        var expected = root.GetProperty("errors").EnumerateArray()
            .Select(e => (e.GetProperty("pointer").GetString()!, e.GetProperty("message_contains").GetString()!))
            .ToList();
        var semantic = root.TryGetProperty("semantic", out var s) && s.GetBoolean();
        return new Case(root.GetProperty("description").GetString()!, text, document, semantic, expected);
    }
}
