using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;
using PolicyEngine.Matching;

namespace PolicyEngine.Documents.Parsing;

/// <summary>
/// Builds <c>args_schema</c> with <c>pattern</c> and <c>patternProperties</c> on the linear-time engine, within
/// <see cref="RegexBudget"/>, instead of JsonSchema.Net's own backtracking <c>RegexOptions.ECMAScript</c> regexes
/// (<c>^(a+)+$</c> against 28 <c>a</c>s and a <c>!</c> took six seconds, four times longer per two more characters).
/// </summary>
/// <remarks>
/// Patterns are read as .NET regexes (<c>RegexOptions.NonBacktracking | CultureInvariant</c>), not as ECMA-262:
/// <c>\d</c> and <c>\w</c> also match non-ASCII digits and letters, <c>\s</c> follows .NET's white-space set, and
/// backreferences and lookarounds are refused. The other JSON Schema keywords keep JsonSchema.Net's semantics.
/// <c>format</c> (including <c>"regex"</c>) only annotates: the evaluator never asks for format assertion, so no
/// instance string is ever compiled as a regex. A <c>"$schema"</c> naming another dialect would bring that dialect's
/// stock keywords back; <see cref="FindUnboundedPattern"/> finds those so the parser can refuse them.
/// </remarks>
internal static class SchemaRegexes
{
    private static readonly Dialect Bounded = Dialect.Draft202012.With([new BoundedPattern(), new BoundedPatternProperties()]);

    /// <summary>Builds a schema whose patterns are bounded; throws for an invalid schema or a pattern over budget.</summary>
    public static JsonSchema Build(JsonElement element) =>
        JsonSchema.Build(element, new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Bounded });

    /// <summary>Describes a <c>pattern</c> or <c>patternProperties</c> keyword not built by this class, if any.</summary>
    public static string? FindUnboundedPattern(JsonSchema schema)
    {
        if (schema.Root is not { } root)
        {
            return null;
        }

        var seen = new HashSet<JsonSchemaNode>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<JsonSchemaNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!seen.Add(node))
            {
                continue;
            }

            foreach (var keyword in node.Keywords ?? [])
            {
                if (keyword.Handler.Name is "pattern" or "patternProperties" && keyword.Handler is not (BoundedPattern or BoundedPatternProperties))
                {
                    return Describe(keyword);
                }

                if (keyword.Value is Regex { Options: var options } && !options.HasFlag(RegexOptions.NonBacktracking))
                {
                    return Describe(keyword);
                }

                foreach (var sub in keyword.Subschemas ?? [])
                {
                    pending.Push(sub);
                }
            }
        }

        return null;
    }

    private static string Describe(KeywordData keyword)
    {
        var raw = keyword.RawValue.GetRawText();
        return $"\"{keyword.Handler.Name}\": {(raw.Length > 80 ? raw[..80] + "..." : raw)}";
    }

    private static Regex Compile(string pattern)
    {
        if (PolicyParser.ChargeSchemaPattern(pattern) is { } tooMany)
        {
            throw new RegexBudgetException(tooMany);
        }

        try
        {
            return RegexCache.Get(pattern);
        }
        catch (RegexBudgetException ex)
        {
            throw new RegexBudgetException($"the pattern \"{pattern}\" is too costly to evaluate: {ex.Message}");
        }
        catch (NotSupportedException ex)
        {
            throw new JsonSchemaException($"the pattern \"{pattern}\" uses a construct the linear-time engine does not support (backreferences, lookarounds, atomic groups): {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            throw new JsonSchemaException($"the pattern \"{pattern}\" does not compile: {ex.Message}");
        }
    }

    /// <summary><c>pattern</c> on the linear-time engine; evaluation is JsonSchema.Net's, on this regex.</summary>
    private sealed class BoundedPattern : PatternKeyword
    {
        public override object? ValidateKeywordValue(JsonElement value)
        {
            if (value.ValueKind is not JsonValueKind.String)
            {
                throw new JsonSchemaException($"'{Name}' value must be a string, found {value.ValueKind}");
            }

            return Compile(value.GetString()!);
        }
    }

    /// <summary><c>patternProperties</c> on the linear-time engine; evaluation is JsonSchema.Net's, on these regexes.</summary>
    private sealed class BoundedPatternProperties : PatternPropertiesKeyword
    {
        public override object? ValidateKeywordValue(JsonElement value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                throw new JsonSchemaException($"'{Name}' value must be an object, found {value.ValueKind}");
            }

            var regexes = new Dictionary<string, Regex>(StringComparer.Ordinal);
            foreach (var property in value.EnumerateObject())
            {
                if (property.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                {
                    throw new JsonSchemaException("Values must be valid schemas");
                }

                regexes[property.Name] = Compile(property.Name);
            }

            return regexes;
        }
    }
}
