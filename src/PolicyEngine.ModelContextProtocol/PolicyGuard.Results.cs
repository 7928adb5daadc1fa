using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.ModelContextProtocol;

// What the guard answers besides the tool's own result: the unknown-tool error for missing and hidden tools, refusals
// with their rule, and the size check of a call's arguments. Code moved unchanged from PolicyGuard.cs.
public sealed partial class PolicyGuard
{
    /// <summary>Whether the server has the tool the call names (see <see cref="PolicyEngineMcpOptions.ToolExists"/>).</summary>
    private async ValueTask<bool> ExistsAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        if (_toolExists is not null)
        {
            return await _toolExists(context, cancellationToken).ConfigureAwait(false);
        }

        // The SDK matched the name in its tool collection before the filters ran. A name it did not match exists
        // only if a call handler of the host's own may serve it; without one the SDK would answer "unknown tool".
        return context.MatchedPrimitive is McpServerTool
            || context.Server.ServerOptions.Handlers.CallToolHandler is not null;
    }

    private static bool IsHidden(Decision decision) =>
        decision.Kind == DecisionKind.Deny && string.Equals(decision.Rule, BuiltInRules.Hidden, StringComparison.Ordinal);

    /// <summary>
    /// Exactly what the SDK's server throws for a <c>tools/call</c> naming a tool it does not have (ModelContextProtocol
    /// 2.4.0, <c>McpServerImpl.ConfigureTools</c>); the SDK turns it into the JSON-RPC error
    /// <c>{"code": -32602, "message": "Unknown tool: 'NAME'"}</c>. <c>HiddenToolTests</c> compares the two answers.
    /// </summary>
    private static McpProtocolException UnknownTool(string tool) =>
        new($"Unknown tool: '{tool}'", McpErrorCode.InvalidParams);

    // ------------------------------------------------------------------ results

    private static CallToolResult Refusal(string tool, Decision decision)
    {
        var reason = string.IsNullOrEmpty(decision.Reason) ? "no reason given" : decision.Reason;
        var text = decision.Kind == DecisionKind.RateLimited
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"Call to '{tool}' rate-limited by policy: {reason}. Retry after {RetrySeconds(decision.RetryAfter)} seconds.{RuleSuffix(reason, decision.Rule)}")
            : $"Call to '{tool}' denied by policy: {reason}.{RuleSuffix(reason, decision.Rule)}";
        return Error(text);
    }

    /// <summary>" (rule R)", unless the reason already names the rule (the default deny's reason ends with "(default deny)").</summary>
    private static string RuleSuffix(string reason, string? rule) =>
        string.IsNullOrEmpty(rule) || reason.Contains(rule, StringComparison.Ordinal) ? string.Empty : $" (rule {rule})";

    private static long RetrySeconds(TimeSpan? retryAfter) =>
        retryAfter is { } r && r > TimeSpan.Zero ? (long)Math.Ceiling(r.TotalSeconds) : 1;

    private static CallToolResult Error(string text) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = text }],
    };

    // ------------------------------------------------------------------ arguments

    private static IReadOnlyDictionary<string, JsonElement>? AsReadOnly(IDictionary<string, JsonElement>? args) =>
        args switch
        {
            null => null,
            IReadOnlyDictionary<string, JsonElement> ready => ready,
            _ => new Dictionary<string, JsonElement>(args, StringComparer.Ordinal),
        };

    /// <summary>An upper bound of the arguments' JSON size, stopping as soon as it passes <paramref name="limit"/>.</summary>
    private static long MeasureBytes(IReadOnlyDictionary<string, JsonElement> args, int limit)
    {
        long total = 2;
        foreach (var (name, value) in args)
        {
            total += Encoding.UTF8.GetByteCount(name) + 4;
            total += value.ValueKind == JsonValueKind.Undefined ? 4 : Encoding.UTF8.GetByteCount(value.GetRawText());
            if (total > limit)
            {
                break;
            }
        }

        return total;
    }
}
