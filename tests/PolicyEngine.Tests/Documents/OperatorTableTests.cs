using System.Text.Json;
using PolicyEngine.Documents;

namespace PolicyEngine.Tests.Documents;

/// <summary>
/// The operator table (<see cref="Operators"/>) is the one definition of the operators: the published schemas, the
/// parser, the writer and the enum agree with it, so adding an operator is one entry plus its evaluator.
/// </summary>
public class OperatorTableTests
{
    public static TheoryData<string> Versions() => new(PolicyDocument.SupportedVersions);

    [Fact]
    public void Table_CoversEveryEnumMemberOnceInEnumOrder()
    {
        Assert.Equal(Enum.GetValues<PredicateOperator>(), Operators.All.Select(o => o.Operator));
        Assert.Equal(Operators.All.Length, Operators.All.Select(o => o.Name).Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Schema_OpEnum_IsTheTablesNamesForTheVersion(string version)
    {
        var comparison = ComparisonSchema(version);

        var names = comparison.GetProperty("properties").GetProperty("op").GetProperty("enum").EnumerateArray().Select(e => e.GetString()!);

        Assert.Equal(Operators.All.Where(o => version != "1" || !o.V2).Select(o => o.Name), names);
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Schema_OperandType_MatchesTheTablesOperandKind(string version)
    {
        var stated = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rule in ComparisonSchema(version).GetProperty("allOf").EnumerateArray())
        {
            if (!rule.GetProperty("if").TryGetProperty("properties", out var ifProperties) || !ifProperties.TryGetProperty("op", out var op)
                || !rule.GetProperty("then").GetProperty("properties").TryGetProperty("value", out var value))
            {
                continue;
            }

            var ops = op.TryGetProperty("const", out var single) ? [single.GetString()!] : op.GetProperty("enum").EnumerateArray().Select(e => e.GetString()!).ToArray();
            foreach (var name in ops)
            {
                stated.Add(name, value.GetProperty("type").GetString()!);
            }
        }

        foreach (var info in Operators.All.Where(o => version != "1" || !o.V2))
        {
            string? expected = info.Operand switch
            {
                OperandKind.Any => null,
                OperandKind.Array => "array",
                OperandKind.Number => "number",
                OperandKind.Boolean => "boolean",
                _ => "string",
            };
            Assert.True(stated.GetValueOrDefault(info.Name) == expected, $"schema v{version} types the operand of \"{info.Name}\" as {stated.GetValueOrDefault(info.Name) ?? "anything"}, the table as {expected ?? "anything"}");
        }
    }

    [Fact]
    public void Parser_AcceptsEveryNameAtItsVersion_AndTheWriterSpellsItTheSame()
    {
        foreach (var info in Operators.All)
        {
            var operand = info.Operand switch
            {
                OperandKind.Array => "[1]",
                OperandKind.Number => "1",
                OperandKind.Boolean => "true",
                OperandKind.DirectoryPath => "\"/w\"",
                _ => "\"a\"",
            };
            var json = $$"""{ "version": "2", "default": "deny", "tools": { "t": { "require": [ { "path": "args.x", "op": "{{info.Name}}", "value": {{operand}} } ] } } }""";

            var document = PolicyDocument.Parse(json);
            var written = document.ToJson();

            Assert.Equal(info.Operator, Assert.IsType<ComparisonPredicate>(document.Tools[0].Require![0]).Operator);
            Assert.Contains($"\"op\": \"{info.Name}\"", written, StringComparison.Ordinal);
            var v1 = PolicyDocument.TryParse(json.Replace("\"version\": \"2\"", "\"version\": \"1\"", StringComparison.Ordinal), out _, out var errors);
            Assert.Equal(!info.V2, v1);
            if (info.V2)
            {
                Assert.Contains(errors, e => e.Pointer == "/tools/t/require/0/op" && e.Message.Contains("needs version \"2\"", StringComparison.Ordinal));
            }
        }
    }

    private static JsonElement ComparisonSchema(string version)
    {
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Schemas", $"policy-v{version}.schema.json")));
        var defs = schema.RootElement.GetProperty("$defs");
        return (defs.TryGetProperty("comparison", out var comparison) ? comparison : defs.GetProperty("predicate")).Clone();
    }
}
