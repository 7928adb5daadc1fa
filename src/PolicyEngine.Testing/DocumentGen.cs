using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using PolicyEngine.Documents;

namespace PolicyEngine.Testing;

/// <summary>
/// Valid version 1 and version 2 policy documents as JSON text, exercising every key, operator, composite, limit form
/// and approval. Tool names, argument names and counters are drawn from small sets so that calls meet the rules.
/// </summary>
internal static class DocumentGen
{
    /// <summary>Names that argument paths share, so that predicates on different paths meet the same data.</summary>
    internal static readonly string[] Segments = ["a", "b", "amount", "reason", "path", "name", "tags", "id"];

    private static readonly string[] Numbers =
        ["0", "1", "-1", "2.5", "100", "1e2", "1.0", "-0", "9007199254740993", "12345678901234567890", "1e400", "0.1"];

    private static readonly string[] Strings =
        ["", "a", "abc", "A", "5", "/workspace/x", "/etc/passwd", "é", "😀", "a\u0000b", "tab\t", "quote\"", "back\\slash", "x/y~z"];

    private static readonly string[] Regexes = ["^a", "b+$", "[0-9]{3}", "(x|y)z", "", ".*", "\\d+", "^(?:[a-z]+)$", "é|😀"];

    private static readonly string[] Directories = ["/", "/workspace", "/tmp/x/", "/a/./b/../c", "C:\\data", "\\\\server\\share"];

    private static readonly string[] ApproverPredicates =
    [
        "{\"path\":\"identity.roles\",\"op\":\"contains\",\"value\":\"finance\"}",
        "{\"path\":\"identity.id\",\"op\":\"in\",\"value\":[\"ann\",\"ben\"]}",
        "{\"any\":[{\"path\":\"identity.roles\",\"op\":\"contains\",\"value\":\"security\"},{\"path\":\"identity.id\",\"op\":\"eq\",\"value\":\"root\"}]}",
    ];

    private static readonly string[] Durations = ["1s", "30s", "90s", "5m", "15m", "2h", "1d", "3650d"];

    private static readonly string[] ArgsSchemas =
    [
        "true", "false", "{}", "{\"type\":\"object\"}",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":0}},\"required\":[\"a\"]}",
        "{\"$id\":\"https://example.com/s\",\"type\":\"object\",\"additionalProperties\":{\"type\":[\"string\",\"number\"]}}",
        "{\"properties\":{\"path\":{\"type\":\"string\",\"pattern\":\"^/\"}},\"maxProperties\":3}",
    ];

    private static readonly string[] Decorations = ["", "_x", "/a", "~b", " c", "é", "😀", "\"q", "\\s", ".d", "~1"];

    private static readonly string[] GlobTails = ["*", "?", "*_x", "?*", "a*b", "*/*", "?~"];

    /// <summary>A valid version 1 document.</summary>
    public static Gen<string> V1() => DocumentOf(v2: false);

    /// <summary>A valid version 2 document.</summary>
    public static Gen<string> V2() => DocumentOf(v2: true);

    /// <summary>
    /// Encodes a .NET string as a JSON string literal, escaping only what JSON requires: non-ASCII text stays raw, so no
    /// <c>\uXXXX</c> surrogate escapes appear that a text mutation could split into lone surrogates.
    /// </summary>
    internal static string Str(string text)
    {
        var json = new System.Text.StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => json.Append("\\\""),
                '\\' => json.Append("\\\\"),
                < ' ' => json.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => json.Append(c),
            };
        }

        return json.Append('"').ToString();
    }

    /// <summary>A JSON value (no lone surrogates, no duplicate keys), nested at most <paramref name="depth"/> levels.</summary>
    internal static Gen<string> Value(int depth = 2) =>
        Tree(
            Gen.OneOf(Gen.Elements(Numbers), Gen.Elements(Strings).Select(Str), Gen.Elements("true", "false", "null")),
            Segments,
            maxMembers: 3,
            leafWeight: 4,
            objectWeight: 1,
            depth);

    /// <summary>
    /// JSON trees of <paramref name="leaf"/> values in arrays and objects (keys drawn without repetition from
    /// <paramref name="keys"/>), nested at most <paramref name="depth"/> levels.
    /// </summary>
    internal static Gen<string> Tree(Gen<string> leaf, string[] keys, int maxMembers, int leafWeight, int objectWeight, int depth)
    {
        if (depth <= 0)
        {
            return leaf;
        }

        var inner = Tree(leaf, keys, maxMembers, leafWeight, objectWeight, depth - 1);
        var array = from n in Gen.Choose(0, 3)
                    from items in inner.ArrayOf(n)
                    select "[" + string.Join(",", items) + "]";
        var obj = from chosen in Gen.SubListOf(keys)
                  from n in Gen.Choose(0, Math.Min(maxMembers, chosen.Count))
                  from values in inner.ArrayOf(n)
                  select "{" + string.Join(",", values.Select((v, i) => Str(chosen[i]) + ":" + v)) + "}";
        return Gen.Frequency((leafWeight, leaf), (1, array), (objectWeight, obj));
    }


    private static Gen<string?> Optional(Gen<string> gen, int absentWeight = 1, int presentWeight = 1) =>
        Gen.Frequency((absentWeight, Gen.Constant<string?>(null)), (presentWeight, gen.Select(s => (string?)s)));

    private static Gen<string?> Always(Gen<string> gen) => gen.Select(s => (string?)s);

    /// <summary>An object of the present members, in random order.</summary>
    private static Gen<string> Obj(params (string Key, Gen<string?> Value)[] members) =>
        from values in Gen.CollectToArray(members.Select(m => m.Value.Select(v => (m.Key, Value: v))))
        from shuffled in Gen.Shuffle(values.Where(v => v.Value is not null))
        select "{" + string.Join(",", shuffled.Select(m => Str(m.Key) + ":" + m.Value)) + "}";

    private static Gen<string> ListOf(Gen<string> item, int min, int max) =>
        from n in Gen.Choose(min, max)
        from items in item.ArrayOf(n)
        select "[" + string.Join(",", items) + "]";

    private static Gen<string> DocumentOf(bool v2)
    {
        var predicate = Predicate(v2, 0);
        var predicates = ListOf(predicate, 0, 3);
        var limits = ListOf(Limit(v2), 0, 3);
        // Approvers read the approver's identity only; "wait": "elicit" goes only with a rule that names none.
        var approvers = ListOf(Gen.Elements(ApproverPredicates), 1, 2);
        var preview = ListOf(Gen.Elements("\"args.a\"", "\"args.b.c\"", "\"args.amount\""), 0, 1);
        var approval = from named in Gen.Elements(false, true)
                       from rule in Obj(
                           ("reason", Always(Gen.Elements("Needs a human", "r", "é 😀").Select(Str))),
                           ("when", Optional(predicates)),
                           ("ttl", Optional(Gen.Elements(Durations).Select(Str))),
                           ("approvers", named ? Always(approvers) : Gen.Constant<string?>(null)),
                           ("min_approvers", named ? Optional(Gen.Choose(1, 3).Select(n => n.ToString(CultureInfo.InvariantCulture))) : Gen.Constant<string?>(null)),
                           ("on_pending", Optional(Gen.Elements("Wait for finance", "⏳").Select(Str))),
                           ("preview", Optional(preview)),
                           ("wait", Optional(Gen.Elements(named ? ["return", "hold"] : new[] { "return", "hold", "elicit" }).Select(Str))))
                       select rule;

        var allTools = v2
            ? Obj(("require", Optional(predicates)), ("deny_if", Optional(predicates)), ("approval", Optional(approval, 3, 1)), ("limits", Optional(limits)))
            : Obj(("require", Optional(predicates)), ("deny_if", Optional(predicates)), ("limits", Optional(limits)));

        var toolEntry = v2
            ? from action in Gen.Elements<string?>(null, null, "allow", "deny")
              from entry in Obj(
                  ("action", Gen.Constant(action is null ? null : Str(action))),
                  ("on_deny", action == "deny" ? Optional(Gen.Elements("Not today", "").Select(Str)) : Gen.Constant<string?>(null)),
                  ("require", Optional(predicates)),
                  ("deny_if", Optional(predicates)),
                  ("args_schema", Optional(Gen.Elements(ArgsSchemas), 3, 1)),
                  ("approval", Optional(approval, 3, 1)),
                  ("limits", Optional(limits)))
              select entry
            : Obj(("require", Optional(predicates)), ("deny_if", Optional(predicates)), ("limits", Optional(limits)));

        var literalName = from i in Gen.Choose(0, 30)
                          from decoration in Gen.Elements(Decorations)
                          select "t" + i + decoration;

        // Globs never tie: each has its own literal prefix "g<index>..." (and at most one is the catch-all "*").
        var toolName = v2
            ? Gen.Frequency(
                (3, literalName),
                (2, from tail in Gen.Elements(GlobTails) from decoration in Gen.Elements(Decorations) select "g#" + decoration + tail),
                (1, Gen.Constant("*")))
            : literalName;

        var tools = from n in Gen.Choose(0, 6)
                    from names in toolName.ArrayOf(n)
                    from entries in toolEntry.ArrayOf(n)
                    select "{" + string.Join(",", UniqueNames(names).Select((name, i) => Str(name) + ":" + entries[i])) + "}";

        var hideEntry = v2
            ? Gen.Frequency((6, literalName), (2, Gen.Elements("h*", "t1?", "x*y")), (1, Gen.Constant("*")))
            : Gen.Frequency((8, literalName), (1, Gen.Constant("*")));

        return from document in Obj(
                   ("$schema", Optional(Gen.Constant(Str(v2 ? "https://policyengine.dev/schemas/policy-v2.schema.json" : "https://policyengine.dev/schemas/policy-v1.schema.json")), 3, 1)),
                   ("version", Always(Gen.Constant(v2 ? "\"2\"" : "\"1\""))),
                   ("default", Always(Gen.Elements("\"allow\"", "\"deny\""))),
                   ("hide", Optional(ListOf(hideEntry.Select(Str), 0, 3), 2, 1)),
                   ("all_tools", Optional(allTools)),
                   ("tools", Optional(tools, 1, 4)))
               select NumberCounters(document);
    }

    private static List<string> UniqueNames(string[] names)
    {
        var result = new List<string>();
        var globIndex = 0;
        foreach (var name in names)
        {
            var unique = name.StartsWith("g#", StringComparison.Ordinal) ? "g" + globIndex++ + name[2..] : name;
            if (!result.Contains(unique, StringComparer.Ordinal))
            {
                result.Add(unique);
            }
        }

        return result;
    }

    private const string CounterMarker = "\"@counter@\"";

    /// <summary>Gives every limit its own counter id, so that no two limits clash.</summary>
    private static string NumberCounters(string document)
    {
        var parts = document.Split(CounterMarker);
        var text = new System.Text.StringBuilder(parts[0]);
        for (var i = 1; i < parts.Length; i++)
        {
            text.Append("\"c").Append(i).Append('"').Append(parts[i]);
        }

        return text.ToString();
    }

    private static Gen<string> Path(bool v2)
    {
        var args = from n in Gen.Choose(1, 2)
                   from segments in Gen.Elements(Segments).ArrayOf(n)
                   select "args." + string.Join(".", segments);
        return v2
            ? Gen.Frequency((4, args), (1, Gen.Elements("identity.id", "identity.roles", "identity.team", "identity.level.rank")))
            : args;
    }

    private static Gen<string> Comparison(bool v2)
    {
        var value = Value(2);
        var number = Gen.Elements(Numbers);
        var str = Gen.Elements(Strings).Select(Str);
        // One generator per operand kind of the operator table (weights per kind), the operator drawn among the
        // table's operators of that kind that the version allows: a new operator is generated with no change here.
        var operands = new List<(int, Gen<(string Op, string? Value)>)>();
        foreach (var group in Operators.All.Where(o => v2 || !o.V2).GroupBy(o => o.Operand))
        {
            var names = group.Select(o => o.Name).ToArray();
            var (weight, operand) = group.Key switch
            {
                OperandKind.Any => (3, Gen.OneOf(value, str)),
                OperandKind.Array => (2, ListOf(value, 1, 4)),
                OperandKind.Number => (2, number),
                OperandKind.Pattern => (1, Gen.Elements(Regexes).Select(Str)),
                OperandKind.Boolean => (1, Gen.Elements("true", "false")),
                OperandKind.String => (2, Gen.OneOf(str, Gen.Elements("\"a*\"", "\"*.txt\"", "\"?b\""))),
                _ => (1, Gen.Elements(Directories).Select(Str)),
            };
            operands.Add((weight, from op in Gen.Elements(names) from v in operand select (op, (string?)v)));
        }

        return from path in Path(v2)
               from operand in Gen.Frequency(operands)
               from predicate in Obj(
                   ("path", Always(Gen.Constant(Str(path)))),
                   ("op", Always(Gen.Constant(Str(operand.Op)))),
                   ("value", Gen.Constant<string?>(operand.Value)),
                   ("on_deny", Optional(Gen.Elements("Denied by rule", "", "é").Select(Str), 2, 1)))
               select predicate;
    }

    private static Gen<string> Predicate(bool v2, int depth)
    {
        var comparison = Comparison(v2);
        if (!v2 || depth >= 3)
        {
            return comparison;
        }

        var inner = Predicate(v2, depth + 1);
        var onDeny = Optional(Gen.Elements("Composite says no", "").Select(Str), 2, 1);
        var all = Obj(("all", Always(ListOf(inner, 1, 3))), ("on_deny", onDeny));
        var any = Obj(("any", Always(ListOf(inner, 1, 3))), ("on_deny", onDeny));
        var not = Obj(("not", Always(inner)), ("on_deny", onDeny));
        return Gen.Frequency((3, comparison), (1, all), (1, any), (1, not));
    }

    private static Gen<string> Limit(bool v2)
    {
        var max = Gen.Elements("1", "2", "3", "10", "1000", "1e2", "5.0", "9223372036854775807");
        if (!v2)
        {
            return Obj(
                ("counter", Always(Gen.Constant(CounterMarker))),
                ("window", Always(Gen.Elements("minute", "hour", "day").Select(Str))),
                ("max", Always(max)),
                ("scope", Optional(Gen.Constant("\"grant\""))));
        }

        var window = Gen.OneOf(Gen.Elements("minute", "hour", "day"), Gen.Elements(Durations)).Select(Str);
        var scope = Gen.Elements("grant", "global", "tool", "args.id", "args.a.b").Select(Str);
        return from costForm in Gen.Choose(0, 2)
               from limit in Obj(
                   ("counter", Always(Gen.Constant(CounterMarker))),
                   ("window", Always(window)),
                   ("max", Always(max)),
                   ("scope", Optional(scope, 1, 2)),
                   ("algorithm", Optional(Gen.Elements("\"fixed\"", "\"sliding\""))),
                   ("cost", costForm == 1 ? Always(Gen.Elements("1", "2", "1e1", "9223372036854775807")) : Gen.Constant<string?>(null)),
                   ("cost_from", costForm == 2 ? Always(Gen.Elements("args.amount", "args.a.b").Select(Str)) : Gen.Constant<string?>(null)),
                   ("on_deny", Optional(Gen.Elements("Slow down", "").Select(Str), 2, 1)))
               select limit;
    }
}
