using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using PolicyEngine.Documents;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>
/// Random version 2 policies and calls over one small vocabulary of tools, paths and values, so that generated
/// rules and generated calls meet often.
/// </summary>
internal static class EvaluationGenerators
{
    public static readonly string[] Tools = ["a", "b", "fs_read", "fs_write", "zz"];

    private static readonly string[] Paths = ["args.x", "args.y", "args.n.m", "args.list", "identity.roles", "identity.id"];

    private static readonly string[] IdentityPaths = ["identity.roles", "identity.id", "identity.missing"];

    private static readonly string[] Scalars = ["0", "1", "5", "1e2", "100", "-3.5", "\"a\"", "\"usd\"", "\"/w/a\"", "\"alice\"", "\"admin\"", "true", "null"];

    private static readonly string[] Values = [.. Scalars, "[1, \"a\"]", "[\"usd\", \"eur\"]", "{\"m\": 1}", "{\"m\": \"a\"}", "[]"];

    /// <summary>A predicate; with <paramref name="identityOnly"/>, one that reads only <c>identity.</c> paths.</summary>
    public static Gen<string> Predicate(int depth = 0, bool identityOnly = false)
    {
        var comparison =
            from path in Gen.Elements(identityOnly ? IdentityPaths : Paths)
            from op in Gen.Elements(Operators.All)
            from operand in Operand(op)
            select $$"""{ "path": "{{path}}", "op": "{{op.Name}}", "value": {{operand}} }""";
        if (depth >= 2)
        {
            return comparison;
        }

        var composite =
            from kind in Gen.Elements("all", "any", "not")
            from operands in Gen.ListOf(Predicate(depth + 1, identityOnly)).Select(l => l.Take(3).ToList())
            from single in Predicate(depth + 1, identityOnly)
            select kind == "not" ? $$"""{ "not": {{single}} }"""
                : $$"""{ "{{kind}}": [ {{string.Join(", ", operands.Count == 0 ? [single] : operands)}} ] }""";
        return Gen.Frequency((4, comparison), (1, composite));
    }

    // Operands by the operator table's operand kind, so a new operator is generated without touching this file.
    private static Gen<string> Operand(OperatorInfo op) => op.Operand switch
    {
        OperandKind.Array => Gen.Elements("[1, \"a\"]", "[\"usd\", \"eur\"]", "[5, 1e2, null]", "[]"),
        OperandKind.Number => Gen.Elements("0", "1", "5", "100", "1e2", "-3.5"),
        OperandKind.Pattern => Gen.Elements("\"a\"", "\"^u\"", "\"(?i)A\"", "\"[0-9]+\""),
        OperandKind.Boolean => Gen.Elements("true", "false"),
        OperandKind.String when op.Operator == PredicateOperator.Glob => Gen.Elements("\"*a*\"", "\"u?d\"", "\"/w/*\""),
        OperandKind.String => Gen.Elements("\"a\"", "\"u\"", "\"/w\"", "\"\""),
        OperandKind.DirectoryPath => Gen.Elements("\"/w\"", "\"/\"", "\"/w/a\""),
        _ => Gen.Elements(Values),
    };

    public static Gen<string> Rules(bool identityOnly = false) =>
        from require in Gen.ListOf(Predicate(0, identityOnly)).Select(l => l.Take(2).ToList())
        from denyIf in Gen.ListOf(Predicate(0, identityOnly)).Select(l => l.Take(2).ToList())
        from denied in Gen.Frequency((6, Gen.Constant(false)), (1, Gen.Constant(true)))
        from approval in Gen.Frequency((5, Gen.Constant<string?>(null)), (1, Predicate().Select<string, string?>(p => p)))
        select BuildRules(require, denyIf, denied, approval);

    private static string BuildRules(List<string> require, List<string> denyIf, bool denied, string? approvalWhen)
    {
        var parts = new List<string>();
        if (denied)
        {
            parts.Add("\"action\": \"deny\", \"on_deny\": \"disabled\"");
        }

        if (require.Count > 0)
        {
            parts.Add($"\"require\": [ {string.Join(", ", require)} ]");
        }

        if (denyIf.Count > 0)
        {
            parts.Add($"\"deny_if\": [ {string.Join(", ", denyIf)} ]");
        }

        if (approvalWhen is not null)
        {
            parts.Add($"\"approval\": {{ \"when\": [ {approvalWhen} ], \"reason\": \"check\" }}");
        }

        return "{ " + string.Join(", ", parts) + " }";
    }

    /// <summary>A policy as a mutable shape, so properties can add a rule or a hide entry and compare.</summary>
    public sealed record PolicyShape(string Default, List<string> Hide, string? AllTools, List<(string Name, string Rules)> Entries)
    {
        public string ToJson()
        {
            var text = new StringBuilder();
            text.Append($$"""{ "version": "2", "default": "{{Default}}", "hide": [{{string.Join(", ", Hide.Select(h => $"\"{h}\""))}}]""");
            if (AllTools is not null)
            {
                text.Append(", \"all_tools\": ").Append(AllTools);
            }

            text.Append(", \"tools\": { ");
            text.Append(string.Join(", ", Entries.Select(e => $"\"{e.Name}\": {e.Rules}")));
            return text.Append(" } }").ToString();
        }
    }

    /// <summary>Policies; with <paramref name="identityOnly"/>, every check reads only the identity.</summary>
    public static Gen<PolicyShape> Policies(bool identityOnly = false) =>
        from defaultAction in Gen.Elements("allow", "deny")
        from hide in Gen.SubListOf(Tools).Select(l => l.Take(1).ToList())
        from allTools in Gen.Frequency((3, Gen.Constant<string?>(null)), (1, AllToolsRules(identityOnly).Select<string, string?>(r => r)))
        from names in Gen.SubListOf(new[] { "a", "b", "fs_*", "fs_read", "*" })
        from rules in Gen.ListOf(Rules(identityOnly), names.Count)
        select new PolicyShape(defaultAction, hide, allTools, names.Zip(rules).ToList());

    private static Gen<string> AllToolsRules(bool identityOnly) =>
        from denyIf in Gen.ListOf(Predicate(0, identityOnly)).Select(l => l.Take(1).ToList())
        select denyIf.Count == 0 ? "{}" : $"{{ \"deny_if\": [ {string.Join(", ", denyIf)} ] }}";

    public sealed record Call(PolicyIdentity Identity, string Tool, JsonElement Args)
    {
        public override string ToString() => $"{Identity.Attributes.GetRawText()} {Tool} {Args.GetRawText()}";
    }

    public static Gen<Call> Calls() =>
        from id in Gen.Elements("alice", "bob")
        from roles in Gen.SubListOf(new[] { "admin", "dev" })
        from tool in Gen.Elements(Tools)
        from x in Gen.Elements(Values)
        from y in Gen.Elements(Values)
        from n in Gen.Elements(Values)
        from list in Gen.Elements(Values)
        from present in Gen.ArrayOf(Gen.Elements(true, false), 4)
        select new Call(
            PolicyIdentity.WithRoles(id, [.. roles]),
            tool,
            TestPolicies.Args("{" + string.Join(", ", new[] { ("x", x), ("y", y), ("n", n), ("list", list) }
                .Where((_, i) => present[i]).Select(p => $"\"{p.Item1}\": {p.Item2}")) + "}"));
}
