using System.Text.Json;
using System.Text.Json.Nodes;

namespace PolicyEngine.Docs.Tests;

/// <summary>
/// Every example row of docs/operators.md, evaluated: the predicate under <c>require</c> and under <c>deny_if</c>
/// of a tool, the call made with the row's arguments (or identity). "yes" means the require allows and the deny_if
/// denies; "no" the opposite; "undecidable" that both deny.
/// </summary>
public class OperatorReferenceTests
{
    private const string File = "docs/operators.md";

    // The operators of each version as the published schemas list them (OperatorTableTests holds the schemas to the
    // engine's operator table), so a new operator needs its reference rows here without touching this file.
    private static readonly string[] Version1Operators = SchemaOperators("1");

    private static readonly string[] AllOperators = SchemaOperators("2");

    private static string[] SchemaOperators(string version)
    {
        using var schema = System.Text.Json.JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Markdown.Root, "schemas", $"policy-v{version}.schema.json")));
        var defs = schema.RootElement.GetProperty("$defs");
        var comparison = defs.TryGetProperty("comparison", out var v2) ? v2 : defs.GetProperty("predicate");
        return comparison.GetProperty("properties").GetProperty("op").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    public static TheoryData<int, string, string, string, string> Rows()
    {
        var data = new TheoryData<int, string, string, string, string>();
        var lines = System.IO.File.ReadAllLines(Path.Combine(Markdown.Root, File));
        string? header = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var cells = Cells(lines[i]);
            if (cells is null)
            {
                header = null;
                continue;
            }

            if (cells is ["predicate", "arguments" or "identity", "holds"])
            {
                header = cells[1];
                continue;
            }

            if (header is null || cells[0].StartsWith("---", StringComparison.Ordinal))
            {
                continue;
            }

            data.Add(i + 1, header, Unquote(cells[0]), Unquote(cells[1]), cells[2]);
        }

        return data;
    }

    [Fact]
    public void TheReferenceHasExamplesForEveryOperator()
    {
        var predicates = Rows().Select(r => (string)r.Data.Item3).ToList();
        foreach (var op in AllOperators)
        {
            Assert.Contains(predicates, p => p.Contains($"\"op\": \"{op}\"", StringComparison.Ordinal));
        }

        Assert.Contains(predicates, p => p.StartsWith("{\"all\"", StringComparison.Ordinal));
        Assert.Contains(predicates, p => p.StartsWith("{\"not\"", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Example_DecidesAsDocumented(int line, string kind, string predicate, string call, string holds)
    {
        var versions = IsVersion1(predicate) ? new[] { "1", "2" } : ["2"];
        foreach (var version in versions)
        {
            var allowedByRequire = Allowed(version, "require", predicate, kind, call);
            var allowedByDenyIf = Allowed(version, "deny_if", predicate, kind, call);
            var actual = (allowedByRequire, allowedByDenyIf) switch
            {
                (true, false) => "yes",
                (false, true) => "no",
                (false, false) => "undecidable",
                _ => "both allow (impossible)",
            };

            Assert.True(holds == actual, $"{File}:{line} (version {version}): documented \"{holds}\", evaluated \"{actual}\" for {predicate} with {call}");
        }
    }

    private static bool IsVersion1(string predicate)
    {
        var node = JsonNode.Parse(predicate)!.AsObject();
        return node["op"] is { } op && Version1Operators.Contains(op.GetValue<string>())
            && node["path"]!.GetValue<string>().StartsWith("args.", StringComparison.Ordinal)
            && !node.ContainsKey("allow_unusual_paths");
    }

    private static bool Allowed(string version, string key, string predicate, string kind, string call)
    {
        var policy = Policy.Parse($$"""{ "version": "{{version}}", "default": "deny", "tools": { "t": { "{{key}}": [ {{predicate}} ] } } }""");
        var evaluator = new PolicyEvaluator(policy);
        PolicyIdentity identity;
        JsonElement args;
        if (kind == "identity")
        {
            using var document = JsonDocument.Parse(call);
            var attributes = document.RootElement.EnumerateObject().Where(p => p.Name != "id").ToDictionary(p => p.Name, p => p.Value.Clone());
            identity = new PolicyIdentity(document.RootElement.GetProperty("id").GetString()!, attributes);
            args = JsonDocument.Parse("{}").RootElement;
        }
        else
        {
            identity = new PolicyIdentity("alice");
            args = JsonDocument.Parse(call).RootElement;
        }

        return evaluator.Evaluate(identity, "t", args).IsAllowed;
    }

    private static string[]? Cells(string line)
    {
        var trimmed = line.Trim();
        if (!trimmed.StartsWith('|') || !trimmed.EndsWith('|'))
        {
            return null;
        }

        return [.. trimmed[1..^1].Split('|').Select(c => c.Trim())];
    }

    private static string Unquote(string cell) => cell.StartsWith('`') && cell.EndsWith('`') ? cell[1..^1] : cell;
}
