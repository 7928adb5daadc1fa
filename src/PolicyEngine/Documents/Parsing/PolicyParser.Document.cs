using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;
using PolicyEngine.Json;
using PolicyEngine.Matching;

namespace PolicyEngine.Documents.Parsing;

// The parser: the document root (version, default, hide, all_tools, tools).
internal sealed partial class PolicyParser
{
    private PolicyDocument? ReadDocument(JsonElement root)
    {
        var values = new JsonElement?[TopKeys.Length];
        if (root.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"a policy document must be a JSON object, not {KindName(root.ValueKind)}");
            return null;
        }

        // The version decides which rules apply, so read it before anything else.
        string? version = null;
        var versionCount = 0;
        foreach (var property in root.EnumerateObject())
        {
            if (property.NameEquals("version"))
            {
                versionCount++;
                if (versionCount == 1 && property.Value.ValueKind == JsonValueKind.String)
                {
                    version = property.Value.GetString();
                }
            }
        }

        _v2 = version != "1";
        ReadObject(root, "the policy document", TopKeys, values, V2OnlyTopKeys);
        var fields = new Fields(TopKeys, values);

        var schema = ReadString(fields["$schema"], "$schema", required: false, "the policy document", nonEmpty: false);

        if (fields["version"] is not { } versionElement)
        {
            ErrorHere("the policy document is missing the required key \"version\"; add \"version\": \"2\" (or \"1\" for PolicyLayer documents)");
        }
        else if (versionElement.ValueKind != JsonValueKind.String)
        {
            ErrorAt("version", $"\"version\" must be a string such as \"2\", not {KindName(versionElement.ValueKind)} {Truncate(versionElement.GetRawText())}");
        }
        else if (version is not ("1" or "2"))
        {
            ErrorAt("version", $"unsupported version {Quote(version ?? string.Empty)}; this parser knows versions \"1\" and \"2\"");
        }

        var defaultAction = DefaultAction.Deny;
        if (fields["default"] is not { } defaultElement)
        {
            ErrorHere("the policy document is missing the required key \"default\"; add \"default\": \"deny\" or \"default\": \"allow\"");
        }
        else if (defaultElement.ValueKind != JsonValueKind.String || defaultElement.GetString() is not ("allow" or "deny"))
        {
            ErrorAt("default", $"\"default\" must be \"allow\" or \"deny\", not {Truncate(defaultElement.GetRawText())}");
        }
        else
        {
            defaultAction = defaultElement.ValueEquals("allow") ? DefaultAction.Allow : DefaultAction.Deny;
        }

        var hide = fields["hide"] is { } hideElement ? ReadHide(hideElement) : null;
        var description = ReadString(fields["description"], "description", required: false, "the policy document", nonEmpty: false);

        ToolPolicy? allTools = null;
        if (fields["all_tools"] is { } allToolsElement)
        {
            _at.Push("all_tools");
            allTools = ReadToolPolicy(allToolsElement, name: null);
            _at.Pop();
        }

        List<ToolPolicy>? tools = null;
        if (fields["tools"] is { } toolsElement)
        {
            _at.Push("tools");
            tools = ReadTools(toolsElement);
            _at.Pop();
        }

        if (_errors.Count > 0 || _droppedErrors > 0)
        {
            return null;
        }

        // The hand-written checks above give precise messages and are tested to agree with the published schema on
        // the corpus and on generated documents. Evaluating the schema as well costs ~50 µs per predicate, so it runs
        // only where thoroughness beats speed (`policyengine validate`).
        if (_schemaCheck)
        {
            foreach (var error in PolicySchemas.Validate(root, version!))
            {
                Error(error.Pointer, error.Message);
            }
        }

        if (_errors.Count > 0)
        {
            return null;
        }

        return new PolicyDocument(version!, defaultAction, schema, hide, allTools, tools ?? [], description);
    }

    private static string Truncate(string raw) => raw.Length > 80 ? string.Concat(raw.AsSpan(0, 80), "…") : raw;

    private List<string>? ReadHide(JsonElement element)
    {
        _at.Push("hide");
        try
        {
            if (element.ValueKind != JsonValueKind.Array)
            {
                ErrorHere($"\"hide\" must be an array of tool names, not {KindName(element.ValueKind)}");
                return null;
            }

            var names = new List<string>(element.GetArrayLength());
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                _at.Push(index++);
                if (item.ValueKind != JsonValueKind.String || item.GetString() is not { Length: > 0 } name)
                {
                    ErrorHere($"a \"hide\" entry must be a non-empty string (a tool name), not {Truncate(item.GetRawText())}");
                }
                else if (!_v2 && name != "*" && Glob.HasWildcard(name))
                {
                    ErrorHere($"the hide entry {Quote(name)} is a glob, which needs version \"2\" (version \"1\" allows only \"*\")");
                }
                else
                {
                    names.Add(name);
                }

                _at.Pop();
            }

            return names;
        }
        finally
        {
            _at.Pop();
        }
    }

    private List<ToolPolicy>? ReadTools(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"\"tools\" must be an object mapping tool names to rules, not {KindName(element.ValueKind)}");
            return null;
        }

        var tools = new List<ToolPolicy>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        List<string>? globs = null;
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (!seen.Add(name))
            {
                ErrorAt(name, $"duplicate tool {Quote(name)}: a key may appear only once in an object");
                continue;
            }

            if (name.Length == 0)
            {
                ErrorAt(name, "a tool name must not be empty");
                continue;
            }

            if (Glob.HasWildcard(name))
            {
                if (!_v2)
                {
                    ErrorAt(name, $"the tool key {Quote(name)} is a glob, which needs version \"2\"");
                    continue;
                }

                (globs ??= []).Add(name);
            }

            _at.Push(name);
            var tool = ReadToolPolicy(property.Value, name);
            _at.Pop();
            if (tool is not null)
            {
                tools.Add(tool);
            }
        }

        if (globs is not null)
        {
            CheckGlobTies(globs);
        }

        return tools;
    }

    /// <summary>
    /// Two globs tie when their literal prefixes have the same length and some tool name matches both: neither is
    /// more specific, so which applies would be arbitrary. Equal-length prefixes of a common name are equal strings,
    /// so only globs with the same literal prefix need comparing.
    /// </summary>
    private void CheckGlobTies(List<string> globs)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var glob in globs)
        {
            var prefix = glob[..Glob.LiteralPrefixLength(glob)];
            if (!groups.TryGetValue(prefix, out var group))
            {
                groups[prefix] = group = [];
            }

            group.Add(glob);
        }

        foreach (var (prefix, group) in groups)
        {
            if (group.Count > MaxGlobsPerPrefix)
            {
                Error("/tools", $"{group.Count} glob keys share the literal prefix {Quote(prefix)}; at most {MaxGlobsPerPrefix} may, so that ties can be checked");
                continue;
            }

            for (var j = 1; j < group.Count; j++)
            {
                for (var i = 0; i < j; i++)
                {
                    if (Glob.Intersects(group[i], group[j]))
                    {
                        Error("/tools/" + PointerBuilder.Escape(group[j]),
                            $"the tool globs {Quote(group[i])} and {Quote(group[j])} tie: some tool name matches both and neither has a longer literal prefix; make one more specific or list the tool by name");
                        break;
                    }
                }
            }
        }
    }
}
