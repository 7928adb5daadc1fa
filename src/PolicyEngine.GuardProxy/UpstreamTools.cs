using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.GuardProxy;

/// <summary>
/// The names of the upstream server's tools, so that the proxy answers a call to a tool the upstream does not have
/// itself, exactly as it answers a call to a hidden tool (the SDK's unknown-tool error), and never forwards it.
/// </summary>
/// <remarks>
/// The whole list (every page) is fetched on first use and again after each <c>notifications/tools/list_changed</c>
/// from the upstream; the tools of every listing the proxy relays to its client are added, so that a tool an upstream
/// added without notifying becomes callable once the client has listed it (which is how the client learns of it).
/// </remarks>
internal sealed class UpstreamTools
{
    private readonly object _lock = new();
    private McpClient? _upstream;
    private HashSet<string>? _names;
    private int _generation;

    public void Attach(McpClient upstream) => _upstream = upstream;

    /// <summary>The upstream's tool list changed: the next check fetches it again.</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _generation++;
            _names = null;
        }
    }

    /// <summary>Adds the tools of a listing relayed to the client.</summary>
    public void Saw(IEnumerable<Tool> tools)
    {
        lock (_lock)
        {
            if (_names is not null)
            {
                // Copy on write: readers use the set outside the lock.
                _names = [.. _names, .. tools.Select(t => t.Name)];
            }
        }
    }

    /// <summary>Whether the upstream has a tool named <paramref name="name"/>.</summary>
    public async ValueTask<bool> ContainsAsync(string name, CancellationToken cancellationToken) =>
        (await NamesAsync(cancellationToken)).Contains(name);

    /// <summary>The upstream's tool names, fetched (every page) when not known.</summary>
    public async ValueTask<IReadOnlySet<string>> NamesAsync(CancellationToken cancellationToken)
    {
        HashSet<string>? names;
        int generation;
        lock (_lock)
        {
            names = _names;
            generation = _generation;
        }

        if (names is null)
        {
            var upstream = _upstream ?? throw new InvalidOperationException("the upstream is not connected yet");
            names = upstream.ServerCapabilities.Tools is null
                ? []
                : [.. (await upstream.ListToolsAsync(cancellationToken: cancellationToken)).Select(t => t.Name)];
            lock (_lock)
            {
                if (generation == _generation)
                {
                    _names = names;
                }
            }
        }

        return names;
    }

    /// <summary>
    /// The upstream's server instructions without the lines that name a tool the policy hides from
    /// <paramref name="identity"/> (server-everything's, for one, name its tools): instructions are text for the agent,
    /// and a hidden tool must not show through them. <see langword="null"/> stays <see langword="null"/>.
    /// </summary>
    public static string? InstructionsWithout(string? instructions, IEnumerable<string> tools, PolicyEvaluator evaluator, PolicyIdentity identity)
    {
        if (string.IsNullOrEmpty(instructions))
        {
            return instructions;
        }

        var hidden = tools.Where(t => !evaluator.IsVisible(identity, t)).ToList();
        if (hidden.Count == 0)
        {
            return instructions;
        }

        var kept = instructions.Split('\n').Where(line => !hidden.Any(t => line.Contains(t, StringComparison.Ordinal)));
        return string.Join('\n', kept);
    }
}
