using System.Text.Json;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;
using Json.Schema;
using PolicyEngine.Documents;
using PolicyEngine.Documents.Parsing;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// Where <see cref="ParseBenchmarks.ParseAndValidate"/> spends its time on the same 1,000-tool document: the
/// JSON Schema safety net over the whole document, building each tool's <c>args_schema</c>, constructing the
/// NonBacktracking regexes, and plain <see cref="JsonDocument"/> parsing for scale.
/// </summary>
[MemoryDiagnoser]
public class ParseBreakdownBenchmarks
{
    private string _json = null!;
    private byte[] _utf8 = null!;
    private JsonDocument _document = null!;
    private JsonElement[] _argsSchemas = null!;
    private string[] _regexes = null!;

    [GlobalSetup]
    public void Setup()
    {
        _json = LargePolicy.Generate(1_000);
        _utf8 = System.Text.Encoding.UTF8.GetBytes(_json);
        _document = JsonDocument.Parse(_json);
        var schemas = new List<JsonElement>();
        var regexes = new List<string>();
        foreach (var tool in _document.RootElement.GetProperty("tools").EnumerateObject())
        {
            if (tool.Value.TryGetProperty("args_schema", out var schema))
            {
                schemas.Add(schema);
            }

            foreach (var list in new[] { "require", "deny_if" })
            {
                if (tool.Value.TryGetProperty(list, out var predicates))
                {
                    foreach (var predicate in predicates.EnumerateArray())
                    {
                        if (predicate.TryGetProperty("op", out var op) && op.ValueEquals("regex"u8))
                        {
                            regexes.Add(predicate.GetProperty("value").GetString()!);
                        }
                    }
                }
            }
        }

        _argsSchemas = [.. schemas];
        _regexes = [.. regexes];
        Console.WriteLine($"// {_argsSchemas.Length} args_schema, {_regexes.Length} regexes");
    }

    [GlobalCleanup]
    public void Cleanup() => _document.Dispose();

    [Benchmark(Baseline = true)]
    public PolicyDocument ParseAndValidate() => PolicyDocument.Parse(_json);

    [Benchmark]
    public int JsonDocumentOnly()
    {
        using var document = JsonDocument.Parse(_utf8);
        return document.RootElement.GetPropertyCount();
    }

    [Benchmark]
    public int SchemaSafetyNet() => PolicySchemas.Validate(_document.RootElement, "2").Count;

    [Benchmark]
    public int BuildArgsSchemas()
    {
        var built = 0;
        foreach (var schema in _argsSchemas)
        {
            built += JsonSchema.Build(schema, new BuildOptions { SchemaRegistry = new SchemaRegistry() }) is null ? 0 : 1;
        }

        return built;
    }

    [Benchmark]
    public int BuildRegexes()
    {
        var built = 0;
        foreach (var pattern in _regexes)
        {
            built += new Regex(pattern, PolicyParser.RegexFlags).GetHashCode() & 1;
        }

        return built;
    }
}
