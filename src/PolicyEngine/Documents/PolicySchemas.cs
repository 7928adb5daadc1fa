using System.Text.Json;
using Json.Schema;

namespace PolicyEngine.Documents;

/// <summary>
/// The JSON Schemas of each document version, embedded in the assembly (the same files as <c>schemas/</c>).
/// The parser's own checks give the precise messages; the schema is evaluated afterwards as a structural safety net.
/// </summary>
internal static class PolicySchemas
{
    private static readonly Lazy<JsonSchema> V1 = new(() => Build("1"));
    private static readonly Lazy<JsonSchema> V2 = new(() => Build("2"));

    /// <summary>The text of the embedded schema for a version.</summary>
    public static string GetText(string version)
    {
        using var stream = typeof(PolicySchemas).Assembly.GetManifestResourceStream($"PolicyEngine.Schemas.policy-v{version}.schema.json")
            ?? throw new ArgumentException($"no schema is embedded for version \"{version}\"", nameof(version));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Evaluates the document against its version's schema and returns the failures, if any.</summary>
    public static List<PolicyError> Validate(JsonElement document, string version)
    {
        var schema = version == "1" ? V1.Value : V2.Value;
        var errors = new List<PolicyError>();
        if (schema.Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.Flag }).IsValid)
        {
            return errors;
        }

        var results = schema.Evaluate(document, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Collect(results, errors);
        if (errors.Count == 0)
        {
            errors.Add(new PolicyError(string.Empty, $"the document does not match the version \"{version}\" schema"));
        }

        return errors;
    }

    private static void Collect(EvaluationResults results, List<PolicyError> errors)
    {
        if (results.Errors is { Count: > 0 } messages)
        {
            foreach (var (keyword, message) in messages)
            {
                errors.Add(new PolicyError(results.InstanceLocation.ToString(), $"schema keyword \"{keyword}\": {message}"));
            }
        }

        if (results.Details is { } details)
        {
            foreach (var detail in details)
            {
                Collect(detail, errors);
            }
        }
    }

    private static JsonSchema Build(string version)
    {
        using var document = JsonDocument.Parse(GetText(version));
        return JsonSchema.Build(document.RootElement.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
    }
}
