using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PolicyEngine.Documents;

/// <summary>Writes a <see cref="PolicyDocument"/> back to JSON in one canonical key order.</summary>
internal static class PolicyWriter
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        MaxDepth = PolicyDocument.MaxNestingDepth + 8,
    };

    public static string Write(PolicyDocument document)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            if (document.Schema is not null)
            {
                writer.WriteString("$schema", document.Schema);
            }

            writer.WriteString("version", document.Version);
            if (document.Description is not null)
            {
                writer.WriteString("description", document.Description);
            }

            writer.WriteString("default", document.Default == DefaultAction.Allow ? "allow" : "deny");
            if (document.Hide is { } hide)
            {
                writer.WriteStartArray("hide");
                foreach (var name in hide)
                {
                    writer.WriteStringValue(name);
                }

                writer.WriteEndArray();
            }

            if (document.AllTools is { } allTools)
            {
                writer.WritePropertyName("all_tools");
                WriteTool(writer, allTools);
            }

            writer.WriteStartObject("tools");
            foreach (var tool in document.Tools)
            {
                writer.WritePropertyName(tool.Name!);
                WriteTool(writer, tool);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static void WriteTool(Utf8JsonWriter writer, ToolPolicy tool)
    {
        writer.WriteStartObject();
        if (tool.Description is not null)
        {
            writer.WriteString("description", tool.Description);
        }

        if (tool.DeclaredAction is { } action)
        {
            writer.WriteString("action", action == ToolAction.Deny ? "deny" : "allow");
        }

        if (tool.OnDeny is not null)
        {
            writer.WriteString("on_deny", tool.OnDeny);
        }

        WritePredicates(writer, "require", tool.Require);
        WritePredicates(writer, "deny_if", tool.DenyIf);
        if (tool.ArgsSchema is { } schema)
        {
            writer.WritePropertyName("args_schema");
            schema.WriteTo(writer);
        }

        if (tool.Approval is { } approval)
        {
            writer.WriteStartObject("approval");
            WritePredicates(writer, "when", approval.When);
            writer.WriteString("reason", approval.Reason);
            if (approval.TtlText is not null)
            {
                writer.WriteString("ttl", approval.TtlText);
            }

            WriteApprovers(writer, approval);
            writer.WriteEndObject();
        }

        if (tool.Limits is { } limits)
        {
            writer.WriteStartArray("limits");
            foreach (var limit in limits)
            {
                WriteLimit(writer, limit);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static void WriteLimit(Utf8JsonWriter writer, LimitRule limit)
    {
        writer.WriteStartObject();
        writer.WriteString("counter", limit.Counter);
        writer.WriteString("window", limit.WindowText);
        writer.WriteNumber("max", limit.Max);
        writer.WriteString("scope", limit.Scope);
        if (limit.DeclaredAlgorithm is { } algorithm)
        {
            writer.WriteString("algorithm", algorithm == LimitAlgorithm.Sliding ? "sliding" : "fixed");
        }

        if (limit.DeclaredCost is { } cost)
        {
            writer.WriteNumber("cost", cost);
        }

        if (limit.CostFrom is not null)
        {
            writer.WriteString("cost_from", limit.CostFrom);
        }

        if (limit.OnDeny is not null)
        {
            writer.WriteString("on_deny", limit.OnDeny);
        }

        writer.WriteEndObject();
    }

    private static void WritePredicates(Utf8JsonWriter writer, string key, IReadOnlyList<PolicyPredicate>? predicates)
    {
        if (predicates is null)
        {
            return;
        }

        writer.WriteStartArray(key);
        foreach (var predicate in predicates)
        {
            WritePredicate(writer, predicate);
        }

        writer.WriteEndArray();
    }

    private static void WritePredicate(Utf8JsonWriter writer, PolicyPredicate predicate)
    {
        writer.WriteStartObject();
        switch (predicate)
        {
            case ComparisonPredicate comparison:
                writer.WriteString("path", comparison.Path);
                writer.WriteString("op", Operators.Name(comparison.Operator));
                writer.WritePropertyName("value");
                comparison.Value.WriteTo(writer);
                if (comparison.AllowUnusualPaths)
                {
                    writer.WriteBoolean("allow_unusual_paths", true);
                }

                break;
            case CompositePredicate { Kind: CompositeKind.Not } not:
                writer.WritePropertyName("not");
                WritePredicate(writer, not.Operands[0]);
                break;
            case CompositePredicate composite:
                WritePredicates(writer, composite.Kind == CompositeKind.All ? "all" : "any", composite.Operands);
                break;
        }

        if (predicate.OnDeny is not null)
        {
            writer.WriteString("on_deny", predicate.OnDeny);
        }

        writer.WriteEndObject();
    }

    /// <summary>The keys that say who approves and how the caller waits (absent ones are not written).</summary>
    private static void WriteApprovers(Utf8JsonWriter writer, ApprovalRule approval)
    {
        WritePredicates(writer, "approvers", approval.Approvers);
        if (approval.MinApprovers is { } min)
        {
            writer.WriteNumber("min_approvers", min);
        }

        if (approval.OnPending is not null)
        {
            writer.WriteString("on_pending", approval.OnPending);
        }

        if (approval.Preview is { } preview)
        {
            writer.WriteStartArray("preview");
            foreach (var path in preview)
            {
                writer.WriteStringValue(path);
            }

            writer.WriteEndArray();
        }

        if (approval.Wait is { } wait)
        {
            writer.WriteString("wait", ApprovalRules.WaitName(wait));
        }
    }
}
