using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.GuardProxy;

/// <summary>Serves the upstream server's capabilities by forwarding each request to it.</summary>
internal static class UpstreamRelay
{
    /// <summary>
    /// The capabilities the proxy declares beyond the handlers it registers: resource subscriptions and the
    /// list-changed notifications, mirrored from the upstream (their notifications are relayed by
    /// <see cref="DownstreamRelay"/>). The SDK derives everything else from the registered handlers.
    /// </summary>
    public static ServerCapabilities Advertised(ServerCapabilities upstream) => new()
    {
        Tools = upstream.Tools?.ListChanged == true ? new ToolsCapability { ListChanged = true } : null,
        Prompts = upstream.Prompts is { } prompts ? new PromptsCapability { ListChanged = prompts.ListChanged } : null,
        Resources = upstream.Resources is { } resources
            ? new ResourcesCapability { Subscribe = resources.Subscribe, ListChanged = resources.ListChanged }
            : null,
    };

    public static void Configure(IMcpServerBuilder server, McpClient upstream, SubscriptionListeners listeners, UpstreamTools tools)
    {
        var capabilities = upstream.ServerCapabilities;

        // subscriptions/listen (2026-07-28 clients) grants only what the upstream supports, which may be nothing.
        server.WithSubscriptionsListenHandler((context, ct) => listeners.ListenAsync(upstream, context, ct));

        // Tools are always relayed (the guard filters them); an upstream without tools lists none. The guard forwards
        // a call only for a tool the upstream lists (see UpstreamTools); the others get the unknown-tool error.
        server
            .WithListToolsHandler(async (context, ct) =>
            {
                if (capabilities.Tools is null)
                {
                    return new ListToolsResult { Tools = [] };
                }

                var result = await upstream.ListToolsAsync(context.Params ?? new ListToolsRequestParams(), ct);
                tools.Saw(result.Tools);
                return result;
            })
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

            // resources/subscribe and resources/unsubscribe (clients before 2026-07-28) are forwarded as they are.
            // The SDK answers them itself (an empty success) whenever resources are served, so without an upstream
            // that supports them the capability is not advertised (see Advertised) and they stay that no-op.
            if (capabilities.Resources.Subscribe == true)
            {
                server
                    .WithSubscribeToResourcesHandler(async (context, ct) =>
                    {
                        await upstream.SubscribeToResourceAsync(context.Params!, ct);
                        return new EmptyResult();
                    })
                    .WithUnsubscribeFromResourcesHandler(async (context, ct) =>
                    {
                        await upstream.UnsubscribeFromResourceAsync(context.Params!, ct);
                        return new EmptyResult();
                    });
            }
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
