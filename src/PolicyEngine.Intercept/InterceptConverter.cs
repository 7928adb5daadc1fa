using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PolicyEngine.Intercept.Model;

namespace PolicyEngine.Intercept;

/// <summary>
/// Turns a read <see cref="InterceptFile"/> into version 2 JSON. Each tool's rules keep their order: argument
/// conditions become one <c>require</c> entry per rule (an <c>all</c> when a rule has several), a rule's
/// <c>state</c> block with its <c>lt</c>/<c>lte</c> condition becomes a limit, <c>action: deny</c> becomes the entry's
/// action (first rule) or an entry that never holds (later rule); the <c>"*"</c> rules go to <c>all_tools</c>, which
/// version 2 applies after the tool's own.
/// </summary>
internal sealed class InterceptConverter
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly InterceptFile _file;
    private readonly InterceptImportOptions _options;
    private readonly List<PolicyError> _errors;

    private InterceptConverter(InterceptFile file, InterceptImportOptions options, List<PolicyError> errors)
    {
        _file = file;
        _options = options;
        _errors = errors;
    }

    /// <summary>Where each version 2 rule came from: its pointer in the YAML and the Intercept rule's name.</summary>
    public Dictionary<string, (string YamlPointer, string RuleName)> Origins { get; } = new(StringComparer.Ordinal);

    /// <summary>Checks what only the whole file can tell (state references), then writes the JSON; null when there are problems.</summary>
    public static string? Convert(InterceptFile file, InterceptImportOptions options, List<PolicyError> errors, out InterceptConverter converter)
    {
        converter = new InterceptConverter(file, options, errors);
        var plans = new List<EntryPlan>();
        foreach (var tool in file.Tools)
        {
            plans.Add(converter.Plan(tool));
        }

        return errors.Count > 0 ? null : converter.Write(plans);
    }

    // ------------------------------------------------------------------ planning

    private sealed record LimitPlan(InterceptRule Rule, string Counter, string Window, long Max, long Cost, string? CostFrom);

    private sealed class EntryPlan(InterceptTool tool)
    {
        public InterceptTool Tool { get; } = tool;

        public InterceptRule? DenyAction { get; set; }

        /// <summary>Require entries in order: the rule, its conditions (null: a denial that always applies) and the reason.</summary>
        public List<(InterceptRule Rule, List<InterceptCondition>? Conditions, string Message)> Requires { get; } = [];

        public List<LimitPlan> Limits { get; } = [];
    }

    private EntryPlan Plan(InterceptTool tool)
    {
        var plan = new EntryPlan(tool);
        var late = new List<(InterceptRule, List<InterceptCondition>?, string)>();
        for (var i = 0; i < tool.Rules.Count; i++)
        {
            var rule = tool.Rules[i];
            var limit = CheckState(tool, rule);
            if (!rule.Usable || _errors.Count > 0)
            {
                continue;
            }

            if (rule.Action == "deny")
            {
                // Every call reaching this rule is denied: later rules and every counter are never reached.
                if (i == 0 && !tool.IsWildcard)
                {
                    plan.DenyAction = rule;
                }
                else
                {
                    plan.Requires.Add((rule, null, rule.DenyMessage));
                }

                plan.Limits.Clear();
                late.Clear();
                break;
            }

            var argumentConditions = rule.Conditions.FindAll(c => !c.IsState);
            if (argumentConditions.Count > 0)
            {
                plan.Requires.Add((rule, argumentConditions, rule.DenyMessage));
            }

            if (limit is null)
            {
                continue;
            }

            if (limit.Max >= 1)
            {
                plan.Limits.Add(limit);
            }
            else if (limit.CostFrom is not null && limit.Max == 0)
            {
                // A zero limit still admits calls that add nothing.
                late.Add((rule, [new InterceptCondition(rule.State!.Pointer, limit.CostFrom, "eq", JsonSerializer.SerializeToElement(0))], rule.LimitMessage));
            }
            else
            {
                late.Add((rule, null, rule.LimitMessage));
            }
        }

        plan.Requires.AddRange(late);
        return plan;
    }

    /// <summary>
    /// Validates the rule's <c>state.</c> conditions and returns its limit. Intercept counts a state block only through
    /// an <c>lt</c>/<c>lte</c> condition on the rule's own counter; any other read of a counter is a check version 2
    /// cannot express, and a state block without such a condition would count nothing.
    /// </summary>
    private LimitPlan? CheckState(InterceptTool tool, InterceptRule rule)
    {
        LimitPlan? limit = null;
        var ownPath = rule.State is { } own ? $"state.{tool.Scope}.{own.Counter}" : null;
        foreach (var condition in rule.Conditions)
        {
            if (!condition.IsState)
            {
                continue;
            }

            var parts = condition.Path.Split('.', 3);
            var at = condition.Pointer + (rule.FromRateLimit ? string.Empty : "/path");
            if (parts.Length < 3 || parts[1].Length == 0 || parts[2].Length == 0)
            {
                Error(at, $"the path \"{condition.Path}\" is not valid: a counter is read as \"state.<tool>.<counter>\" (\"state._global.<counter>\" for \"*\" rules)");
                continue;
            }

            if (!HasStateBlock(parts[1], parts[2]))
            {
                Error(at, $"condition references state.{parts[1]}.{parts[2]} but no matching state block found");
                continue;
            }

            if (!rule.Usable)
            {
                // The rule has problems of its own; whether the rest could be imported is moot.
                continue;
            }

            if (limit is null && condition.Path == ownPath && condition.Op is "lt" or "lte" && condition.Value is { ValueKind: JsonValueKind.Number } value)
            {
                limit = MakeLimit(tool, rule, condition.Op, value);
                continue;
            }

            Error(at, condition.Path == ownPath
                ? $"cannot import this condition on \"{condition.Path}\": PolicyEngine enforces a counter only as one limit, the first \"lt\" or \"lte\" condition on it in the rule that holds its state block"
                : $"cannot import this condition on \"{condition.Path}\": PolicyEngine enforces a counter only as a limit (\"lt\" or \"lte\") in the rule that holds its state block, so another rule cannot read it");
        }

        if (rule.Usable && rule.State is { } state && limit is null && state.Counter.Length > 0)
        {
            Error(state.Pointer, $"the state counter \"{state.Counter}\" is never checked, so it would enforce nothing: add a condition {{ path: \"{ownPath}\", op: \"lte\", value: N }} to this rule (Intercept counts a state block only through an \"lt\" or \"lte\" condition in its own rule)");
        }

        return limit;
    }

    private bool HasStateBlock(string scope, string counter)
    {
        var tool = _file.Find(scope) ?? (scope == "_global" ? _file.Find("*") : null);
        return tool is not null && tool.Rules.Exists(r => r.State is { } s && s.Counter == counter);
    }

    private LimitPlan MakeLimit(InterceptTool tool, InterceptRule rule, string op, JsonElement value)
    {
        // Intercept converts the bound to a float, then truncates it to an integer (lt: minus one).
        var bound = value.GetDouble();
        var max = bound >= long.MaxValue ? long.MaxValue : bound <= long.MinValue ? long.MinValue : (long)Math.Truncate(bound);
        if (op == "lt" && max > long.MinValue)
        {
            max--;
        }

        var state = rule.State!;
        var costFrom = state.IncrementFrom.Length > 0 ? state.IncrementFrom : null;
        return new LimitPlan(rule, $"{tool.Scope}.{state.Counter}", state.Window, max, state.Increment, costFrom);
    }

    // ------------------------------------------------------------------ writing

    private string Write(List<EntryPlan> plans)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("version", "2");
            writer.WriteString("default", _file.Default);
            if (_file.Hide.Count > 0)
            {
                writer.WriteStartArray("hide");
                foreach (var name in _file.Hide)
                {
                    writer.WriteStringValue(name);
                }

                writer.WriteEndArray();
            }

            var wildcard = plans.Find(p => p.Tool.IsWildcard);
            if (wildcard is not null && (wildcard.Requires.Count > 0 || wildcard.Limits.Count > 0))
            {
                writer.WritePropertyName("all_tools");
                WriteEntry(writer, wildcard, "/all_tools");
            }

            writer.WriteStartObject("tools");
            foreach (var plan in plans)
            {
                if (!plan.Tool.IsWildcard)
                {
                    writer.WritePropertyName(plan.Tool.Name);
                    WriteEntry(writer, plan, "/tools/" + InterceptReader.Escape(plan.Tool.Name));
                }
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private void WriteEntry(Utf8JsonWriter writer, EntryPlan plan, string pointer)
    {
        Origins[pointer] = (plan.Tool.Pointer, string.Empty);
        writer.WriteStartObject();
        if (plan.DenyAction is { } deny)
        {
            writer.WriteString("action", "deny");
            writer.WriteString("on_deny", deny.DenyMessage);
            Origins[pointer] = (deny.Pointer, deny.Name);
        }

        if (plan.Requires.Count > 0)
        {
            writer.WriteStartArray("require");
            for (var i = 0; i < plan.Requires.Count; i++)
            {
                var (rule, conditions, message) = plan.Requires[i];
                var at = $"{pointer}/require/{i}";
                Origins[at] = (rule.Pointer, rule.Name);
                WriteRequirement(writer, rule, conditions, message, at);
            }

            writer.WriteEndArray();
        }

        if (plan.Limits.Count > 0)
        {
            writer.WriteStartArray("limits");
            for (var i = 0; i < plan.Limits.Count; i++)
            {
                var limit = plan.Limits[i];
                Origins[$"{pointer}/limits/{i}"] = (limit.Rule.State!.Pointer, limit.Rule.Name);
                writer.WriteStartObject();
                writer.WriteString("counter", limit.Counter);
                writer.WriteString("window", limit.Window);
                writer.WriteNumber("max", limit.Max);
                writer.WriteString("scope", _options.PerIdentityCounters ? "grant" : plan.Tool.IsWildcard ? "global" : "tool");
                if (limit.CostFrom is not null)
                {
                    writer.WriteString("cost_from", limit.CostFrom);
                }
                else if (limit.Cost != 1)
                {
                    writer.WriteNumber("cost", limit.Cost);
                }

                writer.WriteString("on_deny", limit.Rule.LimitMessage);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private void WriteRequirement(Utf8JsonWriter writer, InterceptRule rule, List<InterceptCondition>? conditions, string message, string pointer)
    {
        if (conditions is null)
        {
            // Never holds: the identity id is always present (it may be empty, but never null).
            writer.WriteStartObject();
            writer.WriteString("path", "identity.id");
            writer.WriteString("op", "exists");
            writer.WriteBoolean("value", false);
            writer.WriteString("on_deny", message);
            writer.WriteEndObject();
            return;
        }

        if (conditions.Count == 1)
        {
            WriteCondition(writer, conditions[0], message);
            Origins[pointer] = (conditions[0].Pointer, rule.Name);
            return;
        }

        writer.WriteStartObject();
        writer.WriteStartArray("all");
        for (var j = 0; j < conditions.Count; j++)
        {
            Origins[$"{pointer}/all/{j}"] = (conditions[j].Pointer, rule.Name);
            WriteCondition(writer, conditions[j], null);
        }

        writer.WriteEndArray();
        writer.WriteString("on_deny", message);
        writer.WriteEndObject();
    }

    private static void WriteCondition(Utf8JsonWriter writer, InterceptCondition condition, string? onDeny)
    {
        writer.WriteStartObject();
        writer.WriteString("path", condition.Path);
        writer.WriteString("op", condition.Op);
        writer.WritePropertyName("value");
        condition.Value!.Value.WriteTo(writer);
        if (onDeny is not null)
        {
            writer.WriteString("on_deny", onDeny);
        }

        writer.WriteEndObject();
    }

    private void Error(string pointer, string message) => _errors.Add(new PolicyError(pointer, message));
}
