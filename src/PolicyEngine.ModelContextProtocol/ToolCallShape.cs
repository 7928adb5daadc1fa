using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>Checks the raw shape of a <c>tools/call</c> request before the SDK turns it into typed parameters.</summary>
internal static class ToolCallShape
{
    /// <summary>Throws an invalid-params protocol error for a <c>tools/call</c> whose params are not usable.</summary>
    public static void ThrowIfMalformed(JsonRpcMessage? message)
    {
        if (message is not JsonRpcRequest { Method: RequestMethods.ToolsCall } request)
        {
            return;
        }

        if (Problem(request.Params) is { } problem)
        {
            throw new McpProtocolException($"tools/call denied: {problem}", McpErrorCode.InvalidParams);
        }
    }

    private static string? Problem(JsonNode? parameters)
    {
        if (parameters is not JsonObject body)
        {
            return "params must be an object with a tool name";
        }

        if (!body.TryGetPropertyValue("name", out var name) || name is null)
        {
            return "params.name (the tool to call) is missing";
        }

        if (name.GetValueKind() != JsonValueKind.String || string.IsNullOrEmpty(name.GetValue<string>()))
        {
            return "params.name must be a non-empty string";
        }

        if (body.TryGetPropertyValue("arguments", out var arguments) && arguments is not null && arguments.GetValueKind() != JsonValueKind.Object)
        {
            return "params.arguments must be an object of named arguments";
        }

        return null;
    }
}
