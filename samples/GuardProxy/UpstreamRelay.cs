using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.Samples.GuardProxy;

/// <summary>Serves the upstream server's capabilities by forwarding each request to it.</summary>
internal static class UpstreamRelay
{
    public static void Configure(IMcpServerBuilder server, McpClient upstream)
    {
        var capabilities = upstream.ServerCapabilities;

        // Tools are always relayed (the guard filters them); an upstream without tools lists none.
        server
            .WithListToolsHandler(async (context, ct) => capabilities.Tools is null
                ? new ListToolsResult { Tools = [] }
                : await upstream.ListToolsAsync(context.Params ?? new ListToolsRequestParams(), ct))
            .WithCallToolHandler((context, ct) => upstream.CallToolAsync(context.Params!, ct));

        if (capabilities.Prompts is not null)
        {
            server
                .WithListPromptsHandler((context, ct) => upstream.ListPromptsAsync(context.Params ?? new ListPromptsRequestParams(), ct))
                .WithGetPromptHandler((context, ct) => upstream.GetPromptAsync(context.Params!, ct));
        }

        if (capabilities.Resources is not null)
        {
            server
                .WithListResourcesHandler((context, ct) => upstream.ListResourcesAsync(context.Params ?? new ListResourcesRequestParams(), ct))
                .WithListResourceTemplatesHandler((context, ct) => upstream.ListResourceTemplatesAsync(context.Params ?? new ListResourceTemplatesRequestParams(), ct))
                .WithReadResourceHandler((context, ct) => upstream.ReadResourceAsync(context.Params!, ct));
        }

        if (capabilities.Completions is not null)
        {
            server.WithCompleteHandler((context, ct) => upstream.CompleteAsync(context.Params!, ct));
        }

        if (capabilities.Logging is not null)
        {
            server.WithSetLoggingLevelHandler(async (context, ct) =>
            {
                await upstream.SetLoggingLevelAsync(context.Params!, ct);
                return new EmptyResult();
            });
        }
    }
}
