using System.Globalization;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.Samples.PwnoStandIn;

/// <summary>Pwno's tool catalog (a <c>tools/list</c> result) and the stand-in's deterministic answers.</summary>
public sealed class StandInCatalog
{
    /// <summary>The text every answer starts with, so nobody mistakes the fixture's output for Pwno's.</summary>
    public const string Label = "[PwnoStandIn: a test fixture, not Pwno; nothing was run]";

    private readonly Dictionary<string, Tool> _byName;

    private StandInCatalog(IReadOnlyList<Tool> tools)
    {
        Tools = tools;
        _byName = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The tools, exactly as the catalog file lists them (names, descriptions, schemas, annotations).</summary>
    public IReadOnlyList<Tool> Tools { get; }

    /// <summary>Reads a <c>tools/list</c> result: <c>{"tools": [...]}</c>.</summary>
    /// <param name="path">The catalog file.</param>
    /// <returns>The catalog.</returns>
    public static StandInCatalog Load(string path)
    {
        var result = JsonSerializer.Deserialize<ListToolsResult>(File.ReadAllText(path), McpJsonUtilities.DefaultOptions)
            ?? throw new InvalidDataException($"{path} is not a tools/list result");
        return new StandInCatalog([.. result.Tools]);
    }

    /// <summary>
    /// Answers a call deterministically: an error for an unknown tool or a missing required argument (as Pwno's
    /// argument validation would), otherwise a description of what Pwno would have been asked to do.
    /// </summary>
    /// <param name="name">The tool name.</param>
    /// <param name="arguments">The call's arguments.</param>
    /// <returns>The result.</returns>
    public CallToolResult Answer(string name, IDictionary<string, JsonElement>? arguments)
    {
        arguments ??= new Dictionary<string, JsonElement>();
        if (!_byName.TryGetValue(name, out var tool))
        {
            return Error($"{Label} unknown tool '{name}'");
        }

        if (tool.InputSchema.TryGetProperty("required", out var required))
        {
            foreach (var argument in required.EnumerateArray())
            {
                if (!arguments.ContainsKey(argument.GetString()!))
                {
                    return Error($"{Label} {name}: missing required argument '{argument.GetString()}'");
                }
            }
        }

        var text = name == "execute_python_code"
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"{Label} execute_python_code: would run {Text(arguments, "code")?.Length ?? 0} characters of Python in {Text(arguments, "cwd") ?? "/workspace"} with a timeout of {Number(arguments, "timeout") ?? "300"} s")
            : $"{Label} {name} {JsonSerializer.Serialize(new SortedDictionary<string, JsonElement>(arguments, StringComparer.Ordinal))}";
        return new CallToolResult { Content = [new TextContentBlock { Text = text }] };
    }

    private static string? Text(IDictionary<string, JsonElement> arguments, string key) =>
        arguments.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Number(IDictionary<string, JsonElement> arguments, string key) =>
        arguments.TryGetValue(key, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetRawText() : null;

    private static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}
