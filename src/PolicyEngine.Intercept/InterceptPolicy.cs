using System.Diagnostics.CodeAnalysis;
using PolicyEngine.Intercept.Model;

namespace PolicyEngine.Intercept;

/// <summary>
/// Imports policies written for Intercept, PolicyLayer's open-source MCP proxy: YAML with
/// <c>tools.&lt;name&gt;.rules[]</c>, <c>conditions</c>, <c>state</c> counters, the <c>rate_limit</c> shorthand and
/// <c>"*"</c> wildcard rules, converted to an equivalent version 2 <see cref="PolicyDocument"/>.
/// </summary>
/// <remarks>
/// Problems are reported all at once, each with a JSON-Pointer-like path into the YAML
/// (<c>/tools/create_issue/rules/0/conditions/1/op</c>) and Intercept's own message where Intercept reports the
/// problem. Unknown keys are errors, as are checks that version 2 cannot express; docs/intercept.md lists the mapping
/// and every difference from Intercept.
/// </remarks>
public static class InterceptPolicy
{
    /// <summary>The largest policy text accepted, as for JSON documents.</summary>
    public const int MaxLength = 16 * 1024 * 1024;

    /// <summary>Converts an Intercept policy to a version 2 document, keeping the names of the rules it came from.</summary>
    /// <param name="yaml">The policy's YAML text.</param>
    /// <param name="options">Import choices; <see langword="null"/> for the defaults.</param>
    /// <returns>The version 2 document (<see cref="InterceptImport.Document"/>) and its rule names.</returns>
    /// <exception cref="PolicyValidationException">The policy is not valid or cannot be expressed; every problem is listed.</exception>
    public static InterceptImport Import(string yaml, InterceptImportOptions? options = null) =>
        TryImport(yaml, options, out var result, out var errors) ? result : throw new PolicyValidationException(errors);

    /// <summary>Converts an Intercept policy without throwing for bad input.</summary>
    /// <param name="yaml">The policy's YAML text.</param>
    /// <param name="options">Import choices; <see langword="null"/> for the defaults.</param>
    /// <param name="result">The document and its rule names, when valid.</param>
    /// <param name="errors">Every problem found; empty when valid.</param>
    /// <returns><see langword="true"/> when the policy was imported.</returns>
    public static bool TryImport(string yaml, InterceptImportOptions? options, [NotNullWhen(true)] out InterceptImport? result, out IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var snapshot = new InterceptImportOptions { PerIdentityCounters = options?.PerIdentityCounters ?? false };
        result = null;
        var problems = new List<PolicyError>();
        errors = problems;
        if (yaml.Length > MaxLength)
        {
            problems.Add(new PolicyError(string.Empty, $"the policy is too large ({yaml.Length} characters); the limit is {MaxLength}"));
            return false;
        }

        InterceptFile? file;
        try
        {
            file = InterceptReader.Read(yaml, problems);
        }
        catch (Exception ex) when (ex is InsufficientExecutionStackException or InvalidOperationException)
        {
            problems.Add(new PolicyError(string.Empty, $"parsing config file: {ex.Message}"));
            return false;
        }

        if (file is null)
        {
            return false;
        }

        var json = InterceptConverter.Convert(file, snapshot, problems, out var converter);
        if (json is null)
        {
            return false;
        }

        if (!PolicyDocument.TryParse(json, out var document, out var documentErrors))
        {
            // The converter writes only valid documents; should one slip through, point at the YAML it came from.
            foreach (var error in documentErrors)
            {
                problems.Add(new PolicyError(MapPointer(converter, error.Pointer), error.Message));
            }

            return false;
        }

        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (pointer, origin) in converter.Origins)
        {
            if (origin.RuleName.Length > 0)
            {
                names[pointer] = origin.RuleName;
            }
        }

        result = new InterceptImport(document, names);
        return true;
    }

    /// <summary>
    /// The text Intercept gives the agent for a decision on <paramref name="tool"/>: for a hidden tool
    /// <c>Tool "&lt;name&gt;" is hidden by policy</c>, for a tool <c>default: deny</c> refuses
    /// <c>Tool "&lt;name&gt;" is not permitted by policy</c> (both depend on the tool name, which the evaluator's
    /// prebuilt decisions do not carry), otherwise <see cref="Decision.Reason"/>.
    /// </summary>
    /// <param name="decision">A decision of an evaluator running an imported document.</param>
    /// <param name="tool">The tool name the decision was made for.</param>
    /// <returns>Intercept's message (without its <c>[INTERCEPT POLICY DENIED]</c> prefix); <see langword="null"/> for an allow.</returns>
    public static string? Message(Decision decision, string tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return decision.Rule switch
        {
            BuiltInRules.Hidden => "Tool " + Go.GoQuote.Quote(tool) + " is hidden by policy",
            BuiltInRules.DefaultDeny when decision.Kind == DecisionKind.Deny => "Tool " + Go.GoQuote.Quote(tool) + " is not permitted by policy",
            _ => decision.Reason,
        };
    }

    /// <summary>Reads and converts an Intercept policy file.</summary>
    /// <param name="path">The YAML file's path.</param>
    /// <param name="options">Import choices; <see langword="null"/> for the defaults.</param>
    /// <returns>The version 2 document (<see cref="InterceptImport.Document"/>) and its rule names.</returns>
    /// <exception cref="PolicyValidationException">The policy is not valid or cannot be expressed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static InterceptImport Load(string path, InterceptImportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (info.Exists && info.Length > MaxLength)
        {
            throw new PolicyValidationException([new PolicyError(string.Empty, $"the file is too large ({info.Length} bytes); the limit is {MaxLength} bytes")]);
        }

        return Import(File.ReadAllText(path), options);
    }

    private static string MapPointer(InterceptConverter converter, string pointer)
    {
        for (var candidate = pointer; candidate.Length > 0; candidate = candidate[..Math.Max(0, candidate.LastIndexOf('/'))])
        {
            if (converter.Origins.TryGetValue(candidate, out var origin))
            {
                return origin.YamlPointer;
            }
        }

        return string.Empty;
    }
}
