using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using PolicyEngine.Testing;

namespace PolicyEngine.Tests.Documents;

/// <summary>
/// FsCheck generators of policy documents as JSON text: valid version 1 and version 2 documents exercising every key,
/// operator, composite, limit form and approval, plus calls to evaluate against them and mutations that break them.
/// </summary>
/// <remarks>
/// The valid documents come from the PolicyEngine.Testing package's own generator, so users and these tests exercise
/// the same shapes. Strings never contain escaped lone surrogates (<c>\ud800</c>): the parser rejects those as a
/// whole-document error (see <c>HostileDocumentTests</c>), and these generators are for finding other problems.
/// </remarks>
internal static class PolicyGenerators
{
    /// <summary>Names that argument paths and generated argument objects share, so that predicates meet their data.</summary>
    internal static readonly string[] Segments = ["a", "b", "amount", "reason", "path", "name", "tags", "id"];

    /// <summary>Every key a policy document knows, a few typos, and keys that need pointer escaping.</summary>
    internal static readonly string[] PolicyKeys =
    [
        "$schema", "version", "default", "hide", "all_tools", "tools", "require", "deny_if", "limits", "action", "on_deny",
        "args_schema", "approval", "path", "op", "value", "all", "any", "not", "counter", "window", "max", "scope",
        "algorithm", "cost", "cost_from", "when", "reason", "ttl", "opp", "defualt", "x/y", "a~b", "~1", "", "*", "t?",
    ];

    /// <summary>JSON texts used to replace values in mutated documents: every JSON type and many near-valid policy values.</summary>
    internal static readonly string[] MutationValues =
    [
        "1", "0", "-1", "1.5", "1e400", "9223372036854775808", "\"\"", "\"deny\"", "\"allow\"", "\"1\"", "\"2\"", "\"3\"",
        "\"minute\"", "\"5m\"", "\"0s\"", "\"args.a\"", "\"args.\"", "\"identity.id\"", "\"eq\"", "\"regex\"", "\"(\"",
        "\"*\"", "\"grant\"", "\"sliding\"", "\"relative/dir\"", "true", "false", "null", "[]", "{}", "[1,\"a\"]", "{\"a\":1}",
        "[{}]", "[\"x\",\"x\"]", "{\"path\":\"args.a\",\"op\":\"exists\"}", "{\"not\":{}}", "{\"all\":[]}",
        "{\"counter\":\"c0\",\"window\":\"minute\",\"max\":1}", "{\"reason\":\"r\"}", "{\"type\":\"objekt\"}",
    ];

    /// <summary>A valid version 1 or version 2 document.</summary>
    public static Gen<string> Document() => Gen.OneOf(V1Document(), V2Document());

    /// <summary>A valid version 1 (PolicyLayer-compatible) document.</summary>
    public static Gen<string> V1Document() => DocumentGen.V1();

    /// <summary>A valid version 2 document.</summary>
    public static Gen<string> V2Document() => DocumentGen.V2();

    /// <summary>Encodes a .NET string as a JSON string literal (the package's encoder: no surrogate escapes).</summary>
    public static string Str(string text) => DocumentGen.Str(text);

    /// <summary>A JSON value (no lone surrogates, no duplicate keys), nested at most <paramref name="depth"/> levels.</summary>
    public static Gen<string> Value(int depth = 2) => DocumentGen.Value(depth);

    /// <summary>An arguments object whose keys are <see cref="Segments"/>, nested so that dotted paths find values.</summary>
    public static Gen<string> Arguments() =>
        from keys in Gen.SubListOf(Segments)
        from values in Value(2).ArrayOf(keys.Count)
        select "{" + string.Join(",", values.Select((v, i) => Str(keys[i]) + ":" + v)) + "}";

    /// <summary>
    /// A random JSON tree whose object keys are drawn from <see cref="PolicyKeys"/>, so that policy positions are
    /// reached with wrong shapes; the root is usually an object with a version.
    /// </summary>
    public static Gen<string> PolicyShapedJson()
    {
        var tree = Tree(4);
        var root = from version in Gen.Elements("\"1\"", "\"2\"", "\"3\"", "2", "null")
                   from keys in Gen.SubListOf(PolicyKeys)
                   from values in tree.ArrayOf(keys.Count)
                   select "{\"version\":" + version + string.Concat(keys.Where(k => k != "version").Select((k, i) => "," + Str(k) + ":" + values[i])) + "}";
        return Gen.Frequency((4, root), (1, tree));
    }

    private static Gen<string> Tree(int depth) =>
        DocumentGen.Tree(Gen.Elements(MutationValues), PolicyKeys, maxMembers: 4, leafWeight: 2, objectWeight: 2, depth);

    /// <summary>One mutation of a JSON tree: what to do, to which container, with which key or value.</summary>
    public sealed record Mutation(int Kind, int Target, int Pick, int Value);

    /// <summary>A list of mutations to apply with <see cref="Mutate"/>.</summary>
    public static Gen<Mutation[]> Mutations() =>
        from n in Gen.Choose(1, 4)
        from ops in (from kind in Gen.Choose(0, 4)
                     from target in Gen.Choose(0, 10_000)
                     from pick in Gen.Choose(0, 10_000)
                     from value in Gen.Choose(0, 10_000)
                     select new Mutation(kind, target, pick, value)).ArrayOf(n)
        select ops;

    /// <summary>
    /// Applies mutations to a JSON document: insert a key (or item), delete one, rename one, or replace a value with
    /// one of another type. The result is always well-formed JSON without duplicate keys.
    /// </summary>
    public static string Mutate(string json, IEnumerable<Mutation> mutations)
    {
        var root = JsonNode.Parse(json)!;
        foreach (var m in mutations)
        {
            var containers = new List<JsonNode>();
            Collect(root, containers);
            var node = containers[m.Target % containers.Count];
            var value = JsonNode.Parse(MutationValues[m.Value % MutationValues.Length]);
            var key = PolicyKeys[m.Pick % PolicyKeys.Length];
            if (node is JsonObject obj)
            {
                var names = obj.Select(p => p.Key).ToList();
                switch (m.Kind)
                {
                    case 0 when !obj.ContainsKey(key):
                        obj[key] = value;
                        break;
                    case 1 when names.Count > 0:
                        obj.Remove(names[m.Pick % names.Count]);
                        break;
                    case 2 when names.Count > 0 && !obj.ContainsKey(key):
                        var old = names[m.Value % names.Count];
                        var moved = obj[old];
                        obj.Remove(old);
                        obj[key] = moved;
                        break;
                    case 3 or 4 when names.Count > 0:
                        obj[names[m.Pick % names.Count]] = value;
                        break;
                }
            }
            else if (node is JsonArray array)
            {
                switch (m.Kind)
                {
                    case 0 or 2:
                        array.Insert(m.Pick % (array.Count + 1), value);
                        break;
                    case 1 when array.Count > 0:
                        array.RemoveAt(m.Pick % array.Count);
                        break;
                    case 3 or 4 when array.Count > 0:
                        array[m.Pick % array.Count] = value;
                        break;
                }
            }
        }

        return root.ToJsonString();
    }

    private static void Collect(JsonNode? node, List<JsonNode> containers)
    {
        switch (node)
        {
            case JsonObject obj:
                containers.Add(obj);
                foreach (var (_, child) in obj)
                {
                    Collect(child, containers);
                }

                break;
            case JsonArray array:
                containers.Add(array);
                foreach (var child in array)
                {
                    Collect(child, containers);
                }

                break;
        }
    }

    /// <summary>
    /// Tool names worth calling under a document: its literal tool names, a name matching each glob, hidden names,
    /// and names no entry matches.
    /// </summary>
    public static string[] CallableTools(string documentJson)
    {
        using var document = JsonDocument.Parse(documentJson);
        var names = new List<string> { "unlisted", "t0", "g0zz" };
        if (document.RootElement.TryGetProperty("tools", out var tools))
        {
            foreach (var tool in tools.EnumerateObject())
            {
                names.Add(tool.Name.Replace("*", "zz", StringComparison.Ordinal).Replace('?', 'q'));
            }
        }

        if (document.RootElement.TryGetProperty("hide", out var hide))
        {
            names.AddRange(hide.EnumerateArray().Select(h => h.GetString()!.Replace("*", "zz", StringComparison.Ordinal).Replace('?', 'q')));
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }
}
