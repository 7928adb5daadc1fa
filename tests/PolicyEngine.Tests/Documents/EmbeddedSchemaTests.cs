using System.Text;
using System.Text.Json;
using Json.Schema;
using PolicyEngine.Documents;

namespace PolicyEngine.Tests.Documents;

/// <summary>
/// The schemas embedded in the core assembly are the published files in <c>schemas/</c> (copied to <c>Schemas/</c> in
/// the test output), byte for byte, and each is a JSON Schema that JsonSchema.Net builds and the 2020-12 meta-schema accepts.
/// </summary>
public class EmbeddedSchemaTests
{
    public static TheoryData<string> Versions() => new(PolicyDocument.SupportedVersions);

    private static string PublishedPath(string version) =>
        Path.Combine(AppContext.BaseDirectory, "Schemas", $"policy-v{version}.schema.json");

    [Theory]
    [MemberData(nameof(Versions))]
    public void GetText_EachVersion_IsByteIdenticalToPublishedFile(string version)
    {
        var published = File.ReadAllBytes(PublishedPath(version));

        var embedded = Encoding.UTF8.GetBytes(PolicySchemas.GetText(version));

        Assert.True(published.AsSpan().SequenceEqual(embedded), $"the embedded v{version} schema differs from {PublishedPath(version)}");
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void ManifestResource_EachVersion_IsByteIdenticalToPublishedFile(string version)
    {
        // GetText decodes through a StreamReader, which would hide a byte order mark; compare the raw resource too.
        using var stream = typeof(PolicyDocument).Assembly.GetManifestResourceStream($"PolicyEngine.Schemas.policy-v{version}.schema.json");
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);

        Assert.Equal(File.ReadAllBytes(PublishedPath(version)), copy.ToArray());
    }

    [Fact]
    public void PublishedFiles_OnePerSupportedVersion()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Schemas"), "policy-v*.schema.json")
            .Select(Path.GetFileName)
            .Order(StringComparer.Ordinal);

        Assert.Equal(PolicyDocument.SupportedVersions.Select(v => $"policy-v{v}.schema.json"), files);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void GetText_EachVersion_BuildsWithJsonSchemaNet(string version)
    {
        using var document = JsonDocument.Parse(PolicySchemas.GetText(version));

        var schema = JsonSchema.Build(document.RootElement, new BuildOptions { SchemaRegistry = new SchemaRegistry() });

        Assert.NotNull(schema);
        using var minimal = JsonDocument.Parse($"{{\"version\":\"{version}\",\"default\":\"deny\"}}");
        Assert.True(schema.Evaluate(minimal.RootElement).IsValid);
        using var unknownKey = JsonDocument.Parse($"{{\"version\":\"{version}\",\"default\":\"deny\",\"opp\":1}}");
        Assert.False(schema.Evaluate(unknownKey.RootElement).IsValid);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void GetText_EachVersion_IsValidAgainstDraft202012MetaSchema(string version)
    {
        using var document = JsonDocument.Parse(PolicySchemas.GetText(version));

        var results = MetaSchemas.Draft202012.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(results.IsValid, string.Join(Environment.NewLine, Failures(results)));
    }

    [Fact]
    public void MetaSchema_SchemaWithBadKeywordValue_IsRejected()
    {
        // A control for the test above: the meta-schema does check keyword values.
        using var bad = JsonDocument.Parse("{\"type\":\"objekt\",\"minLength\":-1}");

        Assert.False(MetaSchemas.Draft202012.Evaluate(bad.RootElement).IsValid);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void GetText_EachVersion_DeclaresDialectIdAndVersionConst(string version)
    {
        using var document = JsonDocument.Parse(PolicySchemas.GetText(version));
        var root = document.RootElement;

        Assert.Equal("https://json-schema.org/draft/2020-12/schema", root.GetProperty("$schema").GetString());
        Assert.EndsWith($"/policy-v{version}.schema.json", root.GetProperty("$id").GetString(), StringComparison.Ordinal);
        Assert.Equal(version, root.GetProperty("properties").GetProperty("version").GetProperty("const").GetString());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("3")]
    [InlineData("")]
    public void GetText_UnknownVersion_ThrowsArgumentException(string version)
    {
        Assert.Throws<ArgumentException>(() => PolicySchemas.GetText(version));
    }

    private static IEnumerable<string> Failures(EvaluationResults results)
    {
        if (results.Errors is { } errors)
        {
            foreach (var (keyword, message) in errors)
            {
                yield return $"{results.InstanceLocation} {keyword}: {message}";
            }
        }

        foreach (var detail in results.Details ?? [])
        {
            foreach (var failure in Failures(detail))
            {
                yield return failure;
            }
        }
    }
}
