using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// Generates a realistic v2 document with many tools: a mix of empty entries, string, numeric, set and composite
/// predicates on arguments and identity, per-tool limits of every scope, args_schema on some tools, a few
/// disabled tools, glob entries and hide globs. Deterministic for a given tool count.
/// </summary>
internal static class LargePolicy
{
    public static string Generate(int toolCount, int globCount = 10)
    {
        var buffer = new ArrayBufferWriter<byte>(toolCount * 600);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://policyengine.dev/schemas/policy-v2.schema.json");
            w.WriteString("version", "2");
            w.WriteString("default", "deny");
            w.WriteStartArray("hide");
            w.WriteStringValue("debug_*");
            w.WriteStringValue("internal_?");
            w.WriteStringValue("legacy_export");
            w.WriteEndArray();

            w.WriteStartObject("all_tools");
            w.WriteStartArray("deny_if");
            Predicate(w, "identity.id", "eq", v => v.WriteStringValue("blocked-agent"), "this agent is blocked");
            w.WriteEndArray();
            w.WriteStartArray("limits");
            w.WriteStartObject();
            w.WriteString("counter", "calls_per_minute");
            w.WriteString("window", "minute");
            w.WriteNumber("max", 600);
            w.WriteString("scope", "grant");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteStartObject("tools");
            for (var g = 0; g < globCount; g++)
            {
                w.WriteStartObject($"ns{g}_*");
                w.WriteStartArray("require");
                Predicate(w, "identity.roles", "contains", v => v.WriteStringValue("ns-user"), null);
                w.WriteEndArray();
                w.WriteEndObject();
            }

            for (var i = 0; i < toolCount; i++)
            {
                var name = "tool_" + i.ToString("D5", CultureInfo.InvariantCulture);
                w.WriteStartObject(name);
                Tool(w, i);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Tool(Utf8JsonWriter w, int i)
    {
        if (i % 50 == 49)
        {
            w.WriteString("action", "deny");
            w.WriteString("on_deny", $"tool {i} is switched off during the migration");
            return;
        }

        switch (i % 5)
        {
            case 0:
                // Listed as {}: allowed under default deny.
                break;
            case 1:
                w.WriteStartArray("require");
                Predicate(w, "args.path", "path_under", v => v.WriteStringValue("/srv/data"), "only files under /srv/data");
                Predicate(w, "args.path", "exists", v => v.WriteBooleanValue(true), null);
                w.WriteEndArray();
                w.WriteStartArray("deny_if");
                Predicate(w, "args.path", "regex", v => v.WriteStringValue(@"\.(exe|dll|so)$"), "no binaries");
                Predicate(w, "args.path", "ends_with", v => v.WriteStringValue(".key"), null);
                w.WriteEndArray();
                break;
            case 2:
                w.WriteStartArray("require");
                Predicate(w, "args.amount", "lte", v => v.WriteNumberValue(1000 + i), "amount too large");
                Predicate(w, "args.currency", "in", v =>
                {
                    v.WriteStartArray();
                    v.WriteStringValue("usd");
                    v.WriteStringValue("eur");
                    v.WriteStringValue("gbp");
                    v.WriteEndArray();
                }, null);
                w.WriteEndArray();
                w.WriteStartArray("deny_if");
                Predicate(w, "args.note", "contains", v => v.WriteStringValue("urgent"), null);
                w.WriteEndArray();
                w.WriteStartArray("limits");
                Limit(w, $"t{i}_per_minute", "minute", 30, "grant", null);
                Limit(w, $"t{i}_per_customer", "5m", 100, "args.customer.id", "sliding");
                w.WriteEndArray();
                break;
            case 3:
                w.WriteStartObject("args_schema");
                w.WriteString("type", "object");
                w.WriteStartArray("required");
                w.WriteStringValue("repo");
                w.WriteEndArray();
                w.WriteBoolean("additionalProperties", false);
                w.WriteStartObject("properties");
                w.WriteStartObject("repo");
                w.WriteString("type", "string");
                w.WriteNumber("minLength", 1);
                w.WriteNumber("maxLength", 200);
                w.WriteEndObject();
                w.WriteStartObject("branch");
                w.WriteString("type", "string");
                w.WriteEndObject();
                w.WriteStartObject("force");
                w.WriteString("type", "boolean");
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteStartArray("require");
                Predicate(w, "identity.roles", "contains", v => v.WriteStringValue("dev"), "developers only");
                w.WriteEndArray();
                w.WriteStartArray("deny_if");
                Predicate(w, "args.branch", "glob", v => v.WriteStringValue("release/*"), "release branches are protected");
                Predicate(w, "args.force", "eq", v => v.WriteBooleanValue(true), null);
                w.WriteEndArray();
                w.WriteStartArray("limits");
                Limit(w, $"t{i}_per_day", "day", 1000, "tool", null);
                w.WriteEndArray();
                break;
            default:
                w.WriteStartArray("require");
                w.WriteStartObject();
                w.WriteStartArray("any");
                Predicate(w, "identity.roles", "contains", v => v.WriteStringValue("admin"), null);
                w.WriteStartObject();
                w.WriteStartArray("all");
                Predicate(w, "args.env", "eq", v => v.WriteStringValue("staging"), null);
                Predicate(w, "args.ticket", "starts_with", v => v.WriteStringValue("OPS-"), null);
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteString("on_deny", "admins, or staging with a ticket");
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteStartArray("deny_if");
                Predicate(w, "args.replicas", "gt", v => v.WriteNumberValue(10.5m), null);
                Predicate(w, "args.region", "not_in", v =>
                {
                    v.WriteStartArray();
                    v.WriteStringValue("eu-west-1");
                    v.WriteStringValue("us-east-1");
                    v.WriteEndArray();
                }, null);
                w.WriteEndArray();
                break;
        }
    }

    private static void Predicate(Utf8JsonWriter w, string path, string op, Action<Utf8JsonWriter> value, string? onDeny)
    {
        w.WriteStartObject();
        w.WriteString("path", path);
        w.WriteString("op", op);
        w.WritePropertyName("value");
        value(w);
        if (onDeny is not null)
        {
            w.WriteString("on_deny", onDeny);
        }

        w.WriteEndObject();
    }

    private static void Limit(Utf8JsonWriter w, string counter, string window, long max, string scope, string? algorithm)
    {
        w.WriteStartObject();
        w.WriteString("counter", counter);
        w.WriteString("window", window);
        w.WriteNumber("max", max);
        w.WriteString("scope", scope);
        if (algorithm is not null)
        {
            w.WriteString("algorithm", algorithm);
        }

        w.WriteEndObject();
    }
}
