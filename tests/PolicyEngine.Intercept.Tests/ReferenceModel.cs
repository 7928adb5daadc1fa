using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PolicyEngine.Intercept.Tests;

/// <summary>An Intercept policy as plain data: rendered to YAML for the importer, read directly by <see cref="ReferenceInterpreter"/>.</summary>
internal sealed record RefCondition(string Path, string Op, JsonNode? Value);

internal sealed record RefState(string Counter, string Window, long Increment, string? IncrementFrom);

internal sealed record RefRule(string Name, string Action, List<RefCondition> Conditions, string OnDeny, RefState? State, string? RateLimit);

internal sealed record RefPolicy(string Default, List<string> Hide, List<(string Tool, List<RefRule> Rules)> Tools)
{
    public string ToYaml()
    {
        var y = new StringBuilder("# generated for a property test\nversion: \"1\"\n");
        y.Append("default: ").Append(Default).Append('\n');
        if (Hide.Count > 0)
        {
            y.Append("hide:\n");
            foreach (var h in Hide)
            {
                y.Append("  - ").Append(h).Append('\n');
            }
        }

        y.Append("tools:\n");
        foreach (var (tool, rules) in Tools)
        {
            y.Append("  \"").Append(tool).Append("\":\n    rules:");
            if (rules.Count == 0)
            {
                y.Append(" []\n");
                continue;
            }

            y.Append('\n');
            foreach (var r in rules)
            {
                y.Append("      - name: \"").Append(r.Name).Append("\"\n");
                if (r.Action == "deny")
                {
                    y.Append("        action: deny\n");
                }

                if (r.OnDeny.Length > 0)
                {
                    y.Append("        on_deny: \"").Append(r.OnDeny).Append("\"\n");
                }

                if (r.RateLimit is not null)
                {
                    y.Append("        rate_limit: ").Append(r.RateLimit).Append('\n');
                    continue;
                }

                if (r.Conditions.Count > 0)
                {
                    y.Append("        conditions:\n");
                    foreach (var c in r.Conditions)
                    {
                        y.Append("          - path: \"").Append(c.Path).Append("\"\n            op: ").Append(c.Op)
                            .Append("\n            value: ").Append(c.Value!.ToJsonString()).Append('\n');
                    }
                }

                if (r.State is { } s)
                {
                    y.Append("        state:\n          counter: ").Append(s.Counter).Append("\n          window: ").Append(s.Window).Append('\n');
                    if (s.IncrementFrom is not null)
                    {
                        y.Append("          increment_from: ").Append(s.IncrementFrom).Append('\n');
                    }
                    else if (s.Increment != 1)
                    {
                        y.Append("          increment: ").Append(s.Increment.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    }
                }
            }
        }

        return y.ToString();
    }

    /// <summary>A random valid policy in the subset where Intercept and the import must agree exactly.</summary>
    public static RefPolicy Random(Random random)
    {
        var tools = new List<(string, List<RefRule>)>();
        foreach (var tool in new[] { "a", "b", "c", "*" })
        {
            if (random.Next(4) == 0)
            {
                continue;
            }

            var rules = new List<RefRule>();
            var count = random.Next(4);
            var usedRateLimit = false;
            for (var i = 0; i < count; i++)
            {
                var name = $"{(tool == "*" ? "w" : tool)}{i}";
                var onDeny = random.Next(2) == 0 ? string.Empty : $"{name} says no";
                switch (random.Next(8))
                {
                    case 0:
                        rules.Add(new RefRule(name, "deny", [], onDeny, null, null));
                        break;
                    case 1 when !usedRateLimit:
                        usedRateLimit = true;
                        rules.Add(new RefRule(name, "evaluate", [], onDeny, null, $"{random.Next(1, 4)}/minute"));
                        break;
                    case 2 or 3:
                        var scope = tool == "*" ? "_global" : tool;
                        var conditions = Conditions(random, random.Next(0, 2));
                        // Bounds that admit no call at all are refused at a different point of the order (docs/intercept.md).
                        var bound = random.Next(1, 5);
                        var strict = random.Next(2) == 0;
                        conditions.Insert(random.Next(conditions.Count + 1), new RefCondition($"state.{scope}.c{i}", strict ? "lt" : "lte", strict ? bound + 1 : bound));
                        var state = new RefState($"c{i}", "minute", random.Next(1, 3), random.Next(3) == 0 ? "args.n" : null);
                        rules.Add(new RefRule(name, "evaluate", conditions, onDeny, state, null));
                        break;
                    default:
                        rules.Add(new RefRule(name, "evaluate", Conditions(random, random.Next(1, 3)), onDeny, null, null));
                        break;
                }
            }

            tools.Add((tool, rules));
        }

        var hide = new List<string>();
        if (random.Next(3) == 0)
        {
            hide.Add(random.Next(2) == 0 ? "b" : "h");
        }

        return new RefPolicy(random.Next(3) == 0 ? "deny" : "allow", hide, tools);
    }

    private static readonly string[] Strings = ["x", "y", "xy", "zz"];

    private static List<RefCondition> Conditions(Random random, int count)
    {
        var list = new List<RefCondition>();
        for (var i = 0; i < count; i++)
        {
            list.Add(random.Next(8) switch
            {
                0 => new RefCondition("args.s", random.Next(2) == 0 ? "eq" : "neq", Strings[random.Next(Strings.Length)]),
                1 => new RefCondition("args.s", random.Next(2) == 0 ? "in" : "not_in", new JsonArray(Strings[random.Next(Strings.Length)], Strings[random.Next(Strings.Length)])),
                2 => new RefCondition("args.n", new[] { "lt", "lte", "gt", "gte" }[random.Next(4)], random.Next(0, 6)),
                3 => new RefCondition("args.s", "regex", new[] { "^x", "y$", "z" }[random.Next(3)]),
                4 => new RefCondition("args.s", "contains", Strings[random.Next(Strings.Length)]),
                5 => new RefCondition("args.l", "contains", Strings[random.Next(Strings.Length)]),
                6 => new RefCondition("args.n", "eq", random.Next(0, 3)),
                _ => new RefCondition(new[] { "args.s", "args.n", "args.l" }[random.Next(3)], "exists", random.Next(2) == 0),
            });
        }

        return list;
    }
}

/// <summary>One call in a property run.</summary>
internal sealed record RefCall(string Tool, JsonObject Args, string Identity, bool Succeeded, TimeSpan Advance)
{
    public static RefCall Random(Random random)
    {
        var args = new JsonObject();
        if (random.Next(4) != 0)
        {
            args["s"] = new[] { "x", "y", "xy", "zz", "ab" }[random.Next(5)];
        }

        if (random.Next(4) != 0)
        {
            args["n"] = random.Next(0, 6);
        }

        if (random.Next(3) == 0)
        {
            args["l"] = new JsonArray("x", random.Next(2) == 0 ? "y" : "zz");
        }

        var advance = random.Next(6) switch { 0 => TimeSpan.FromSeconds(61), 1 => TimeSpan.FromSeconds(15), _ => TimeSpan.Zero };
        return new RefCall(new[] { "a", "b", "c", "d", "h" }[random.Next(5)], args, random.Next(2) == 0 ? "p" : "q", random.Next(5) != 0, advance);
    }
}

/// <summary>
/// A direct reading of Intercept's documented evaluation, written from POLICY.md: hide, default posture, rules in
/// order (tool, then "*"), deny rules, AND-ed conditions (state conditions read the counter), then counters reserved
/// in order against the first lt/lte bound of the rule's own counter; a failed call rolls its reservations back.
/// </summary>
internal sealed class ReferenceInterpreter(RefPolicy policy)
{
    private readonly Dictionary<string, (DateTimeOffset Window, long Value)> _counters = [];

    /// <summary>Allowed, the message, and whether the message is one the import must reproduce exactly.</summary>
    public (bool Allowed, string? Message, bool ExactMessage) Evaluate(RefCall call, DateTimeOffset now)
    {
        if (policy.Hide.Contains(call.Tool) || policy.Hide.Contains("*"))
        {
            return (false, "(hidden)", false);
        }

        var own = policy.Tools.Find(t => t.Tool == call.Tool);
        if (policy.Default == "deny" && own.Rules is null)
        {
            return (false, "(default deny)", false);
        }

        var rules = new List<(RefRule Rule, string Scope)>();
        rules.AddRange((own.Rules ?? []).Select(r => (Desugar(r, call.Tool), call.Tool)));
        var wildcard = policy.Tools.Find(t => t.Tool == "*");
        rules.AddRange((wildcard.Rules ?? []).Select(r => (Desugar(r, "_global"), "_global")));

        foreach (var (rule, _) in rules)
        {
            var message = rule.OnDeny.Length > 0 ? rule.OnDeny : $"Denied by rule \"{rule.Name}\"";
            if (rule.Action == "deny" || !rule.Conditions.TrueForAll(c => Holds(c, call.Args, now)))
            {
                return (false, message, true);
            }
        }

        // The import refuses a call whose amount is missing or could never fit a counter before counting anything,
        // with its own explanation (docs/intercept.md, differences 1 and 15): the outcome agrees, the message may not.
        var amountNode = call.Args["n"];
        var neverFits = rules.Exists(r => r.Rule.State is { IncrementFrom: not null } s
            && (amountNode is null || amountNode.GetValue<int>() > Limit(r.Rule, $"state.{r.Scope}.{s.Counter}")));
        var reserved = new List<(string Key, long Amount)>();
        foreach (var (rule, scope) in rules)
        {
            if (rule.State is not { } state)
            {
                continue;
            }

            var key = scope + "." + state.Counter;
            long amount = state.Increment;
            if (state.IncrementFrom is not null)
            {
                if (call.Args["n"] is not { } n)
                {
                    Rollback(reserved);
                    return (false, "Internal policy error", false);
                }

                amount = n.GetValue<int>();
            }

            var bound = rule.Conditions.First(c => c.Path == "state." + key && c.Op is "lt" or "lte");
            var limit = bound.Value!.GetValue<int>() - (bound.Op == "lt" ? 1 : 0);
            var current = Read(key, now);
            if (current + amount > limit)
            {
                Rollback(reserved);
                var message = rule.OnDeny.Length > 0 ? rule.OnDeny : $"Rate limit exceeded for {rule.Name}";

                // A call that could never fit is refused by the import with its own explanation.
                return (false, message, !neverFits && amount <= limit && limit >= 1);
            }

            _counters[key] = (WindowStart(now), current + amount);
            reserved.Add((key, amount));
        }

        if (!call.Succeeded)
        {
            Rollback(reserved);
        }

        return (true, null, true);
    }

    private static int Limit(RefRule rule, string path)
    {
        var bound = rule.Conditions.First(c => c.Path == path && c.Op is "lt" or "lte");
        return bound.Value!.GetValue<int>() - (bound.Op == "lt" ? 1 : 0);
    }

    private static RefRule Desugar(RefRule rule, string scope)
    {
        if (rule.RateLimit is not { } rateLimit)
        {
            return rule;
        }

        var parts = rateLimit.Split('/');
        var count = int.Parse(parts[0], CultureInfo.InvariantCulture);
        var counter = "_rate_" + parts[1];
        var onDeny = rule.OnDeny.Length > 0 ? rule.OnDeny : $"Rate limit of {count} per {parts[1]} reached. Try again later.";
        return rule with { Conditions = [new RefCondition($"state.{scope}.{counter}", "lte", count)], State = new RefState(counter, parts[1], 1, null), OnDeny = onDeny, RateLimit = null };
    }

    private void Rollback(List<(string Key, long Amount)> reserved)
    {
        foreach (var (key, amount) in reserved)
        {
            var (window, value) = _counters[key];
            _counters[key] = (window, Math.Max(0, value - amount));
        }
    }

    private long Read(string key, DateTimeOffset now) =>
        _counters.TryGetValue(key, out var entry) && entry.Window == WindowStart(now) ? entry.Value : 0;

    private static DateTimeOffset WindowStart(DateTimeOffset now) => new(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero);

    private bool Holds(RefCondition condition, JsonObject args, DateTimeOffset now)
    {
        JsonNode? actual;
        bool exists;
        if (condition.Path.StartsWith("state.", StringComparison.Ordinal))
        {
            actual = Read(condition.Path[6..], now);
            exists = true;
        }
        else
        {
            exists = args.TryGetPropertyValue(condition.Path[5..], out actual);
        }

        if (condition.Op == "exists")
        {
            return (exists && actual is not null) == condition.Value!.GetValue<bool>();
        }

        if (!exists || actual is null)
        {
            return false;
        }

        var expected = condition.Value!;
        return condition.Op switch
        {
            "eq" => Equal(actual, expected),
            "neq" => !Equal(actual, expected),
            "in" => expected.AsArray().Any(e => Equal(actual, e!)),
            "not_in" => !expected.AsArray().Any(e => Equal(actual, e!)),
            "lt" => Number(actual) is { } a && a < Number(expected),
            "lte" => Number(actual) is { } b && b <= Number(expected),
            "gt" => Number(actual) is { } c && c > Number(expected),
            "gte" => Number(actual) is { } d && d >= Number(expected),
            "regex" => actual.GetValueKind() == System.Text.Json.JsonValueKind.String && Regex.IsMatch(actual.GetValue<string>(), expected.GetValue<string>()),
            "contains" => actual.GetValueKind() switch
            {
                System.Text.Json.JsonValueKind.String => expected.GetValueKind() == System.Text.Json.JsonValueKind.String && actual.GetValue<string>().Contains(expected.GetValue<string>(), StringComparison.Ordinal),
                System.Text.Json.JsonValueKind.Array => actual.AsArray().Any(e => Equal(e!, expected)),
                _ => false,
            },
            _ => false,
        };
    }

    private static double? Number(JsonNode node) =>
        node.GetValueKind() == System.Text.Json.JsonValueKind.Number ? double.Parse(node.ToJsonString(), CultureInfo.InvariantCulture) : null;

    /// <summary>Intercept's eq: numerically when both are numbers, else by their printed text.</summary>
    private static bool Equal(JsonNode actual, JsonNode expected) =>
        Number(actual) is { } a && Number(expected) is { } e ? a == e : actual.ToJsonString() == expected.ToJsonString();
}
