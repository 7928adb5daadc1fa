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

        var approvers = ReadApprovers(fields["approvers"]);
        var minApprovers = ReadPositiveInteger(fields["min_approvers"], "min_approvers", required: false, "\"approval\"");
        if (minApprovers > ApprovalRules.MaxApprovers)
        {
            ErrorAt("min_approvers", $"\"min_approvers\" may be at most {ApprovalRules.MaxApprovers}");
            minApprovers = null;
        }

        if (minApprovers is not null && approvers is null)
        {
            ErrorAt("min_approvers", "\"min_approvers\" needs \"approvers\": say who may approve");
        }

        var onPending = ReadString(fields["on_pending"], "on_pending", required: false, "\"approval\"");
        var preview = ReadPreview(fields["preview"]);
        ApprovalWaitMode? wait = null;
        if (ReadString(fields["wait"], "wait", required: false, "\"approval\"") is { } waitText)
        {
            wait = ApprovalRules.ParseWait(waitText);
            if (wait is null)
            {
                ErrorAt("wait", $"\"wait\" must be \"return\", \"hold\" or \"elicit\", not {Quote(waitText)}");
            }
            else if (wait == ApprovalWaitMode.Elicit && approvers is not null)
            {
                ErrorAt("wait", "\"wait\": \"elicit\" asks the caller itself, and the caller never approves its own call: use \"return\" or \"hold\" with \"approvers\"");
            }
        }

        return reason is null ? null : new ApprovalRule(when, reason, ttl, timeToLive, approvers, (int?)minApprovers, onPending, preview, wait);
    }

    /// <summary>Reads <c>approvers</c>: a non-empty predicate list whose every path starts with <c>identity.</c>.</summary>
    private IReadOnlyList<PolicyPredicate>? ReadApprovers(JsonElement? element)
    {
        if (element is not { } value)
        {
            return null;
        }

        var approvers = ReadPredicateList(value, "approvers");
        if (approvers is null)
        {
            return null;
        }

        if (approvers.Count == 0)
        {
            ErrorAt("approvers", "\"approvers\" must name at least one predicate over the approver's identity, such as {\"path\": \"identity.roles\", \"op\": \"contains\", \"value\": \"security\"}");
            return null;
        }

        for (var i = 0; i < approvers.Count; i++)
        {
            if (ApprovalRules.FirstNonIdentityPath(approvers[i]) is { } path)
            {
                Error(_at.With("approvers") + "/" + i.ToString(CultureInfo.InvariantCulture), $"an approver predicate reads the approver's identity only; {Quote(path)} does not start with \"identity.\"");
            }
        }

        return approvers;
    }

    /// <summary>Reads <c>preview</c>: distinct <c>args.</c> paths.</summary>
    private List<string>? ReadPreview(JsonElement? element)
    {
        if (element is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            ErrorAt("preview", $"\"preview\" must be an array of argument paths such as [\"args.amount\"], not {KindName(value.ValueKind)}");
            return null;
        }

        var paths = new List<string>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = _at.With("preview") + "/" + (index++).ToString(CultureInfo.InvariantCulture);
            if (item.ValueKind != JsonValueKind.String || item.GetString() is not { } path || !ApprovalRules.IsPreviewPath(path))
            {
                Error(at, $"a preview entry must be an argument path such as \"args.amount\" (dot-separated, no empty segment), not {Truncate(item.GetRawText())}");
                continue;
            }

            if (paths.Contains(path))
            {
                Error(at, $"{Quote(path)} is listed twice in \"preview\"");
                continue;
            }

            paths.Add(path);
        }

        return paths;
    }
}
