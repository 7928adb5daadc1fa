using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyEngine.Documents;
using PolicyEngine.Intercept.Go;
using PolicyEngine.Intercept.Model;
using PolicyEngine.Intercept.Yaml;
using PolicyEngine.Matching;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using OperatorTable = PolicyEngine.Documents.Operators;

namespace PolicyEngine.Intercept;

// The Intercept reader, rules: action, on_deny, conditions (operators and operands, checked as Intercept checks them).
internal sealed partial class InterceptReader
{
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
}
