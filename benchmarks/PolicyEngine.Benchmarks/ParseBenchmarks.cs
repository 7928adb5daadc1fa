using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// Loading a large policy: parse + validate (including the JSON Schema safety net and args_schema compilation) of a
/// generated 1,000-tool v2 document, and compiling the parsed document into the decision tree.
/// Target: parse + validate under 20 ms.
/// </summary>
[MemoryDiagnoser]
public class ParseBenchmarks
{
    private string _json = null!;
    private PolicyDocument _document = null!;

    [Params(1_000)]
    public int Tools { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _json = LargePolicy.Generate(Tools);
        _document = PolicyDocument.Parse(_json);
        if (_document.Tools.Count != Tools + 10)
        {
            throw new InvalidOperationException($"expected {Tools + 10} tool entries, parsed {_document.Tools.Count}");
        }

        Console.WriteLine($"// policy document: {_json.Length:N0} chars, {_document.Tools.Count} tool entries");
    }

    [Benchmark]
    public PolicyDocument ParseAndValidate() => PolicyDocument.Parse(_json);

    [Benchmark]
    public Policy Compile() => Policy.Compile(_document);
}
