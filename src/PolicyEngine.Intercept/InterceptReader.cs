using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyEngine.Documents;
using PolicyEngine.Intercept.Go;
using PolicyEngine.Intercept.Model;
using PolicyEngine.Intercept.Yaml;
using PolicyEngine.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using OperatorTable = PolicyEngine.Documents.Operators;

namespace PolicyEngine.Intercept;

/// <summary>
/// Reads an Intercept policy from YAML into <see cref="InterceptFile"/>, reporting every problem Intercept's
/// <c>intercept validate</c> reports (its documented table, with the location moved into the pointer) and ours:
/// unknown keys, wrong shapes, negative increments.
/// </summary>
internal sealed partial class InterceptReader
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
