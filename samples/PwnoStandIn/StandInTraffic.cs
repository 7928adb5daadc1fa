using System.Text.Json;

namespace PolicyEngine.Samples.PwnoStandIn;

/// <summary>
/// Appends every request the stand-in receives to a JSON-lines file (one object per line: <c>method</c>, and for
/// calls <c>name</c> and <c>arguments</c>), flushed before the request is answered, so a test that has its response
/// can read the line. Without a path nothing is recorded.
/// </summary>
public sealed class StandInTraffic(string? path)
{
    /// <summary>The environment variable that names the traffic file when <c>--traffic</c> is not given.</summary>
    public const string Variable = "PWNO_STANDIN_TRAFFIC";

    private readonly Lock _lock = new();

    /// <summary>Records one request.</summary>
    /// <param name="method">The MCP method, such as <c>tools/call</c>.</param>
    /// <param name="name">The tool name, for calls.</param>
    /// <param name="arguments">The call's arguments.</param>
    public void Record(string method, string? name, IDictionary<string, JsonElement>? arguments)
    {
        if (path is null)
        {
            return;
        }

        var line = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["method"] = method,
            ["name"] = name,
            ["arguments"] = arguments,
        }) + "\n";
        lock (_lock)
        {
            File.AppendAllText(path, line);
        }
    }
}
