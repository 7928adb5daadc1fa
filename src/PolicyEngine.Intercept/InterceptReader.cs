using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyEngine.Documents;
using PolicyEngine.Intercept.Go;
using PolicyEngine.Intercept.Model;
using PolicyEngine.Intercept.Yaml;
using PolicyEngine.Json;
using PolicyEngine.Matching;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using OperatorTable = PolicyEngine.Documents.Operators;

namespace PolicyEngine.Intercept;

/// <summary>
/// Reads an Intercept policy from YAML into <see cref="InterceptFile"/>, reporting every problem Intercept's
/// <c>intercept validate</c> reports (its documented table, with the location moved into the pointer) and ours:
/// unknown keys, wrong shapes, negative increments.
/// </summary>
internal sealed class InterceptReader
{
    // Intercept's condition operators are PolicyLayer's version 1 set, read from the engine's operator table.
    internal static readonly string[] Operators = PolicyEngine.Documents.Operators.V1Names;
    internal static readonly string[] Windows = ["minute", "hour", "day"];

    private static readonly string[] TopKeys = ["version", "description", "default", "hide", "tools"];
    private static readonly string[] ToolKeys = ["rules"];
    private static readonly string[] RuleKeys = ["name", "action", "rate_limit", "conditions", "on_deny", "state"];
    private static readonly string[] ConditionKeys = ["path", "op", "value"];
    private static readonly string[] StateKeys = ["counter", "window", "increment", "increment_from"];

    private readonly List<PolicyError> _errors;

    private InterceptReader(List<PolicyError> errors) => _errors = errors;

    /// <summary>Parses the YAML text; problems go to <paramref name="errors"/>. Returns null when the text is not YAML at all.</summary>
    public static InterceptFile? Read(string yaml, List<PolicyError> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            errors.Add(new PolicyError(string.Empty, $"parsing config file: {Describe(ex)}"));
            return null;
        }
        catch (ArgumentException ex)
        {
            // The representation model reports a repeated mapping key this way.
            errors.Add(new PolicyError(string.Empty, $"parsing config file: {ex.Message}"));
            return null;
        }

        if (stream.Documents.Count > 1)
        {
            errors.Add(new PolicyError(string.Empty, $"a policy file holds one YAML document, not {stream.Documents.Count}"));
            return null;
        }

        var root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        return new InterceptReader(errors).ReadFile(root);
    }

    private static string Describe(YamlException ex)
    {
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        return ex.Start.Line > 0
            ? string.Create(CultureInfo.InvariantCulture, $"line {ex.Start.Line}, column {ex.Start.Column}: {message}")
            : message;
    }

    private InterceptFile ReadFile(YamlNode? root)
    {
        var file = new InterceptFile();
        if (YamlScalars.IsNull(root))
        {
            Error(string.Empty, "version must be \"1\", got \"\"");
            return file;
        }

        if (root is not YamlMappingNode map)
        {
            Error(string.Empty, "a policy file must be a YAML mapping with \"version\" and \"tools\"");
            return file;
        }

        var values = ReadMapping(map, string.Empty, TopKeys);
        file.Version = ReadString(values["version"], "/version") ?? string.Empty;
        if (file.Version != "1")
        {
            Error(values["version"] is null ? string.Empty : "/version", $"version must be \"1\", got \"{file.Version}\"");
        }

        ReadString(values["description"], "/description");
        var posture = ReadString(values["default"], "/default") ?? string.Empty;
        file.Default = posture.Length == 0 ? "allow" : posture;
        if (file.Default is not ("allow" or "deny"))
        {
            Error("/default", $"default must be \"allow\" or \"deny\", got \"{posture}\"");
        }

        ReadHide(values["hide"], file);
        ReadTools(values["tools"], file);
        return file;
    }

    private void ReadHide(YamlNode? node, InterceptFile file)
    {
        if (YamlScalars.IsNull(node))
        {
            return;
        }

        if (node is not YamlSequenceNode list)
        {
            Error("/hide", "hide must be a list of tool names");
            return;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Children.Count; i++)
        {
            var pointer = $"/hide/{i}";
            var name = ReadString(list.Children[i], pointer);
            if (name is null)
            {
                continue;
            }

            if (name.Trim().Length == 0)
            {
                Error(pointer, "entry must not be empty");
                continue;
            }

            if (!seen.Add(name))
            {
                Error(pointer, $"duplicate entry \"{name}\"");
                continue;
            }

            if (name != "*" && name.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                Error(pointer, $"cannot import \"{name}\": in Intercept only the whole entry \"*\" is a wildcard, while PolicyEngine reads \"*\" and \"?\" inside a name as a glob");
                continue;
            }

            file.Hide.Add(name);
        }
    }

    private void ReadTools(YamlNode? node, InterceptFile file)
    {
        if (YamlScalars.IsNull(node))
        {
            return;
        }

        if (node is not YamlMappingNode tools)
        {
            Error("/tools", "tools must be a mapping from tool names to their rules");
            return;
        }

        foreach (var (keyNode, value) in tools.Children)
        {
            var name = YamlScalars.Text(keyNode);
            if (name is null)
            {
                Error("/tools", "a tool name must be a string");
                continue;
            }

            var pointer = "/tools/" + Escape(name);
            if (name.Length == 0)
            {
                Error(pointer, "a tool name must not be empty");
                continue;
            }

            if (name != "*" && name.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                Error(pointer, $"cannot import the tool \"{name}\": PolicyEngine reads \"*\" and \"?\" in a tool name as a glob, while Intercept matches the name exactly");
                continue;
            }

            var tool = new InterceptTool(name, pointer);
            file.Tools.Add(tool);
            if (YamlScalars.IsNull(value))
            {
                continue;
            }

            if (value is not YamlMappingNode entry)
            {
                Error(pointer, "a tool entry must be a mapping with \"rules\"");
                continue;
            }

            var rules = ReadMapping(entry, pointer, ToolKeys)["rules"];
            if (YamlScalars.IsNull(rules))
            {
                continue;
            }

            if (rules is not YamlSequenceNode ruleList)
            {
                Error(pointer + "/rules", "rules must be a list of rules");
                continue;
            }

            for (var i = 0; i < ruleList.Children.Count; i++)
            {
                if (ReadRule(ruleList.Children[i], $"{pointer}/rules/{i}", tool) is { } rule)
                {
                    tool.Rules.Add(rule);
                }
            }

            CheckDuplicateCounters(tool);
        }
    }

    private InterceptRule? ReadRule(YamlNode node, string pointer, InterceptTool tool)
    {
        if (node is not YamlMappingNode map)
        {
            Error(pointer, "a rule must be a mapping with \"name\" and \"conditions\", \"action\" or \"rate_limit\"");
            return null;
        }

        var values = ReadMapping(map, pointer, RuleKeys);
        var rule = new InterceptRule(pointer)
        {
            Name = ReadString(values["name"], pointer + "/name") ?? string.Empty,
            OnDeny = ReadString(values["on_deny"], pointer + "/on_deny") ?? string.Empty,
        };
        var action = ReadString(values["action"], pointer + "/action") ?? string.Empty;
        var rateLimit = ReadString(values["rate_limit"], pointer + "/rate_limit") ?? string.Empty;

        var conditionsNode = values["conditions"];
        var conditionCount = ReadConditions(conditionsNode, pointer + "/conditions", rule);
        if (!YamlScalars.IsNull(values["state"]))
        {
            rule.State = ReadState(values["state"]!, pointer + "/state");
        }

        if (rateLimit.Length > 0)
        {
            // Intercept desugars the shorthand when it can; otherwise it reports only the rate_limit problems.
            var canDesugar = conditionCount == 0 && rule.State is null && action != "deny";
            var parsed = ParseRateLimit(rateLimit, out var count, out var window, out var problem);
            if (canDesugar && parsed)
            {
                var counter = "_rate_" + window;
                rule.FromRateLimit = true;
                rule.Action = "evaluate";
                using var limit = JsonDocument.Parse(count.ToString(CultureInfo.InvariantCulture));
                rule.Conditions.Add(new InterceptCondition(pointer + "/rate_limit", $"state.{tool.Scope}.{counter}", "lte", limit.RootElement.Clone()));
                rule.State = new InterceptState(pointer + "/rate_limit") { Counter = counter, Window = window, Increment = 1 };
                if (rule.OnDeny.Length == 0)
                {
                    rule.OnDeny = string.Create(CultureInfo.InvariantCulture, $"Rate limit of {count} per {window} reached. Try again later.");
                }
            }
            else
            {
                rule.Usable = false;
                if (!parsed)
                {
                    Error(pointer + "/rate_limit", problem!);
                }

                if (conditionCount > 0 || rule.State is not null)
                {
                    Error(pointer + "/rate_limit", "rate_limit cannot be combined with conditions or state; use separate rules or the full syntax instead");
                }

                if (action == "deny")
                {
                    Error(pointer + "/rate_limit", "rate_limit cannot be used with action \"deny\"");
                }

                return rule;
            }
        }
        else
        {
            rule.Action = action.Length == 0 ? "evaluate" : action;
        }

        if (rule.Name.Length == 0)
        {
            Error(pointer, "rule must have a name");
        }

        if (rule.Action is not ("evaluate" or "deny"))
        {
            Error(pointer + "/action", $"action must be \"evaluate\" or \"deny\", got \"{action}\"");
            rule.Usable = false;
        }

        if (rule.Action == "deny" && conditionCount > 0)
        {
            Error(pointer + "/conditions", "deny rules must not have conditions");
        }

        if (rule.Action == "evaluate" && rule.Conditions.Count == 0 && conditionCount == 0)
        {
            Error(conditionsNode is null ? pointer : pointer + "/conditions", "evaluate rules must have at least one condition");
        }

        return rule;
    }

    /// <summary>Reads the conditions; returns how many the YAML lists (valid or not).</summary>
    private int ReadConditions(YamlNode? node, string pointer, InterceptRule rule)
    {
        if (YamlScalars.IsNull(node))
        {
            return 0;
        }

        if (node is not YamlSequenceNode list)
        {
            Error(pointer, "conditions must be a list of { path, op, value }");
            rule.Usable = false;
            return 1;
        }

        for (var j = 0; j < list.Children.Count; j++)
        {
            var at = $"{pointer}/{j}";
            if (list.Children[j] is not YamlMappingNode map)
            {
                Error(at, "a condition must be a mapping with \"path\", \"op\" and \"value\"");
                rule.Usable = false;
                continue;
            }

            var values = ReadMapping(map, at, ConditionKeys);
            var path = ReadString(values["path"], at + "/path") ?? string.Empty;
            var op = ReadString(values["op"], at + "/op") ?? string.Empty;
            JsonElement? value = null;
            var valuePointer = values["value"] is null ? at : at + "/value";
            if (values["value"] is { } valueNode && !YamlScalars.IsNull(valueNode))
            {
                value = YamlScalars.ToElement(valueNode, out var problem);
                if (problem is not null)
                {
                    Error(valuePointer, problem);
                    rule.Usable = false;
                }
            }

            var ok = CheckCondition(at, valuePointer, path, op, value, values["value"] is null);
            rule.Usable &= ok;
            var condition = new InterceptCondition(at, path, op, op == "regex" && value is { ValueKind: JsonValueKind.String } pattern ? Element(GoRegex.ToDotNet(pattern.GetString()!)) : value);
            rule.Conditions.Add(condition);
        }

        return list.Children.Count;
    }

    private bool CheckCondition(string at, string valuePointer, string path, string op, JsonElement? value, bool valueMissing)
    {
        var before = _errors.Count;
        if (!path.StartsWith("args.", StringComparison.Ordinal) && !path.StartsWith("state.", StringComparison.Ordinal))
        {
            Error(at + "/path", $"path must start with \"args.\" or \"state.\", got \"{path}\"");
        }
        else if (path.StartsWith("args.", StringComparison.Ordinal) && !ValidArgsPath(path))
        {
            Error(at + "/path", $"the path \"{path}\" is not valid: write \"args.\" followed by dot-separated names, such as \"args.amount\"");
        }

        if (Array.IndexOf(Operators, op) < 0)
        {
            Error(at + "/op", $"unknown operator \"{op}\"");
        }

        var kind = value?.ValueKind ?? JsonValueKind.Null;
        OperandKind? operand = OperatorTable.TryFind(op, out var info) && !info.V2 ? info.Operand : null;
        switch (operand)
        {
            case OperandKind.Array when kind != JsonValueKind.Array:
                Error(valuePointer, $"operator \"{op}\" requires a list value");
                break;
            case OperandKind.Number when kind != JsonValueKind.Number:
                Error(valuePointer, $"operator \"{op}\" requires a numeric value");
                break;
            case OperandKind.Boolean when kind is not (JsonValueKind.True or JsonValueKind.False):
                Error(valuePointer, $"operator \"{op}\" requires a boolean value");
                break;
            case OperandKind.Pattern when kind != JsonValueKind.String:
                Error(valuePointer, "regex value must be a string");
                break;
            case OperandKind.Pattern:
                var pattern = value!.Value.GetString()!;
                try
                {
                    // The same gate as the policy parser: within the regex budget, on the linear-time engine.
                    _ = RegexCache.Get(GoRegex.ToDotNet(pattern));
                }
                catch (RegexBudgetException ex)
                {
                    Error(valuePointer, $"regex \"{pattern}\" is too costly to evaluate: {ex.Message}");
                }
                catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
                {
                    // NotSupportedException: a construct the linear-time engine refuses (backreferences, lookaround),
                    // which Go's RE2 refuses too.
                    Error(valuePointer, $"invalid regex \"{pattern}\": {ex.Message}");
                }

                break;
            case OperandKind.Any when kind == JsonValueKind.Null:
                Error(valuePointer, valueMissing
                    ? $"operator \"{op}\" needs a value to compare with"
                    : $"operator \"{op}\" cannot compare with null: in PolicyEngine a null argument counts as absent, so the condition would never hold");
                break;
        }

        return _errors.Count == before;
    }

    private InterceptState ReadState(YamlNode node, string pointer)
    {
        var state = new InterceptState(pointer);
        if (node is not YamlMappingNode map)
        {
            Error(pointer, "state must be a mapping with \"counter\" and \"window\"");
            return state;
        }

        var values = ReadMapping(map, pointer, StateKeys);
        state.Counter = ReadString(values["counter"], pointer + "/counter") ?? string.Empty;
        if (state.Counter.Length == 0)
        {
            Error(values["counter"] is null ? pointer : pointer + "/counter", "counter must not be empty");
        }

        state.Window = ReadString(values["window"], pointer + "/window") ?? string.Empty;
        if (Array.IndexOf(Windows, state.Window) < 0)
        {
            Error(values["window"] is null ? pointer : pointer + "/window", $"window must be \"minute\", \"hour\", or \"day\", got \"{state.Window}\"");
        }

        state.IncrementFrom = ReadString(values["increment_from"], pointer + "/increment_from") ?? string.Empty;
        if (state.IncrementFrom.Length > 0)
        {
            if (!state.IncrementFrom.StartsWith("args.", StringComparison.Ordinal))
            {
                Error(pointer + "/increment_from", $"increment_from must start with \"args.\", got \"{state.IncrementFrom}\"");
            }
            else if (!ValidArgsPath(state.IncrementFrom))
            {
                Error(pointer + "/increment_from", $"the path \"{state.IncrementFrom}\" is not valid: write \"args.\" followed by dot-separated names, such as \"args.amount\"");
            }
        }

        if (values["increment"] is { } incrementNode && !YamlScalars.IsNull(incrementNode))
        {
            var text = YamlScalars.Text(incrementNode);
            if (text is null || incrementNode is YamlScalarNode { Style: not (ScalarStyle.Plain or ScalarStyle.Any) }
                || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var increment))
            {
                Error(pointer + "/increment", $"increment must be a whole number, got \"{text}\"");
            }
            else if (increment < 0)
            {
                Error(pointer + "/increment", $"increment must not be negative, got {increment}: a negative increment would hand quota back on every call");
            }
            else
            {
                // Intercept reads an increment of 0 as "not set", which means 1.
                state.Increment = increment == 0 ? 1 : increment;
            }
        }

        return state;
    }

    private void CheckDuplicateCounters(InterceptTool tool)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tool.Rules.Count; i++)
        {
            if (tool.Rules[i].State is not { } state)
            {
                continue;
            }

            if (seen.TryGetValue(state.Counter, out var previous))
            {
                Error(tool.Rules[i].FromRateLimit ? state.Pointer : state.Pointer + "/counter", $"duplicate state counter \"{state.Counter}\" (also used by rules[{previous}])");
                tool.Rules[i].Usable = false;
            }
            else
            {
                seen[state.Counter] = i;
            }
        }
    }

    internal static bool ParseRateLimit(string text, out long count, out string window, out string? problem)
    {
        count = 0;
        window = string.Empty;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            problem = $"rate_limit must be in the format \"N/window\" (e.g. \"5/hour\"), got \"{text}\"";
            return false;
        }

        var countText = text[..slash];
        if (!IsGoInteger(countText) || !long.TryParse(countText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count) || count <= 0)
        {
            problem = $"rate_limit count must be a positive integer, got \"{countText}\"";
            return false;
        }

        window = text[(slash + 1)..];
        if (Array.IndexOf(Windows, window) < 0)
        {
            problem = $"rate_limit window must be \"minute\", \"hour\", or \"day\", got \"{window}\"";
            return false;
        }

        problem = null;
        return true;
    }

    private static bool IsGoInteger(string text)
    {
        var digits = text.AsSpan().TrimStart("+-");
        return text.Length - digits.Length <= 1 && !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
    }

    internal static bool ValidArgsPath(string path) => PolicyPaths.IsValid(path, allowIdentity: false);

    /// <summary>Collects the values of the known keys; reports unknown keys and non-scalar keys.</summary>
    private Dictionary<string, YamlNode?> ReadMapping(YamlMappingNode map, string pointer, string[] known)
    {
        var values = new Dictionary<string, YamlNode?>(StringComparer.Ordinal);
        foreach (var key in known)
        {
            values[key] = null;
        }

        foreach (var (keyNode, value) in map.Children)
        {
            var key = YamlScalars.Text(keyNode);
            if (key is null || !values.ContainsKey(key))
            {
                var shown = key ?? keyNode.ToString();
                Error($"{pointer}/{Escape(shown)}", $"unknown key \"{shown}\"; expected one of {string.Join(", ", known)}");
                continue;
            }

            values[key] = value;
        }

        return values;
    }

    private string? ReadString(YamlNode? node, string pointer)
    {
        var text = YamlScalars.Text(node);
        if (text is null)
        {
            Error(pointer, "must be a string, not a " + (node is YamlSequenceNode ? "list" : "mapping"));
        }

        return text;
    }

    private static JsonElement Element(string text) => JsonSerializer.SerializeToElement(text);

    private void Error(string pointer, string message) => _errors.Add(new PolicyError(pointer, message));

    internal static string Escape(string segment) => PointerBuilder.Escape(segment);
}
