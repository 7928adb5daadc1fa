using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;
using PolicyEngine.Matching;

namespace PolicyEngine.Documents.Parsing;

// The parser: tool entries, args_schema and approvals.
internal sealed partial class PolicyParser
{
    private ToolPolicy? ReadToolPolicy(JsonElement element, string? name)
    {
        var isAllTools = name is null;
        var what = isAllTools ? "\"all_tools\"" : $"the tool entry {Quote(name!)}";
        var known = !_v2 ? ToolKeysV1 : isAllTools ? AllToolsKeysV2 : ToolKeysV2;

        // In version 1, report version-2 keys as "needs version 2" rather than as plain unknown keys.
        var readKeys = _v2 ? known : isAllTools ? AllToolsKeysV2 : ToolKeysV2;
        var values = new JsonElement?[readKeys.Length];
        if (!ReadObject(element, what, readKeys, values, V2OnlyToolKeys))
        {
            return null;
        }

        JsonElement? Get(string key)
        {
            var index = Array.IndexOf(readKeys, key);
            return index < 0 ? null : values[index];
        }

        ToolAction? action = null;
        if (Get("action") is { } actionElement)
        {
            if (actionElement.ValueKind == JsonValueKind.String && actionElement.ValueEquals("deny"))
            {
                action = ToolAction.Deny;
            }
            else if (actionElement.ValueKind == JsonValueKind.String && actionElement.ValueEquals("allow"))
            {
                action = ToolAction.Allow;
            }
            else
            {
                ErrorAt("action", $"\"action\" must be \"allow\" or \"deny\", not {Truncate(actionElement.GetRawText())}");
            }
        }

        var onDeny = ReadString(Get("on_deny"), "on_deny", required: false, what, nonEmpty: false);
        if (onDeny is not null && action != ToolAction.Deny)
        {
            ErrorAt("on_deny", $"\"on_deny\" on a tool entry is the reason for \"action\": \"deny\"; add \"action\": \"deny\" or move the reason to a predicate");
        }

        var require = ReadPredicateList(Get("require"), "require");
        var denyIf = ReadPredicateList(Get("deny_if"), "deny_if");

        JsonElement? argsSchema = null;
        JsonSchema? compiledSchema = null;
        if (Get("args_schema") is { } schemaElement)
        {
            argsSchema = schemaElement;
            compiledSchema = ReadArgsSchema(schemaElement);
        }

        ApprovalRule? approval = null;
        if (Get("approval") is { } approvalElement)
        {
            _at.Push("approval");
            approval = ReadApproval(approvalElement);
            _at.Pop();
        }

        IReadOnlyList<LimitRule>? limits = null;
        if (Get("limits") is { } limitsElement)
        {
            _at.Push("limits");
            limits = ReadLimits(limitsElement, isAllTools);
            _at.Pop();
        }

        var description = ReadString(Get("description"), "description", required: false, what, nonEmpty: false);
        return new ToolPolicy(name, action, onDeny, require, denyIf, argsSchema, compiledSchema, approval, limits, description);
    }

    private JsonSchema? ReadArgsSchema(JsonElement element)
    {
        _at.Push("args_schema");
        try
        {
            CheckValueTree(element);
            if (element.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            {
                ErrorHere($"\"args_schema\" must be a JSON Schema (an object or a boolean), not {KindName(element.ValueKind)}");
                return null;
            }

            try
            {
                // Each schema gets its own registry: a repeated $id across tools must not clash. Its pattern keywords
                // run on the linear-time engine within the regex budget, charged to this document.
                t_schemaParser = this;
                try
                {
                    var schema = SchemaRegexes.Build(element);
                    if (SchemaRegexes.FindUnboundedPattern(schema) is { } location)
                    {
                        ErrorHere($"\"args_schema\" (at {location}) selects a JSON Schema dialect (\"$schema\") whose pattern keywords would run on a backtracking regex engine; remove \"$schema\" (args_schema is JSON Schema 2020-12)");
                        return null;
                    }

                    return schema;
                }
                finally
                {
                    t_schemaParser = null;
                }
            }
            catch (Exception ex) when (FindBudgetProblem(ex) is { } budget)
            {
                ErrorHere($"\"args_schema\" has a pattern the engine cannot evaluate within its budget: {budget.Message}");
                return null;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ErrorHere($"\"args_schema\" is not a valid JSON Schema: {ex.Message}");
                return null;
            }
        }
        finally
        {
            _at.Pop();
        }
    }

    private static RegexBudgetException? FindBudgetProblem(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is RegexBudgetException budget)
            {
                return budget;
            }
        }

        return null;
    }

    private ApprovalRule? ReadApproval(JsonElement element)
    {
        var values = new JsonElement?[ApprovalKeys.Length];
        if (!ReadObject(element, "\"approval\"", ApprovalKeys, values))
        {
            return null;
        }

        var fields = new Fields(ApprovalKeys, values);

        var when = ReadPredicateList(fields["when"], "when");
        var reason = ReadString(fields["reason"], "reason", required: true, "\"approval\"");
        var ttl = ReadString(fields["ttl"], "ttl", required: false, "\"approval\"");
        var timeToLive = ApprovalRule.DefaultTimeToLive;
        if (ttl is not null && !Duration.TryParse(ttl, out timeToLive))
        {
            ErrorAt("ttl", $"\"ttl\" {Quote(ttl)} is not a duration; write a whole number followed by s, m, h or d, such as \"15m\"");
            ttl = null;
        }

        return reason is null ? null : new ApprovalRule(when, reason, ttl, timeToLive);
    }
}
