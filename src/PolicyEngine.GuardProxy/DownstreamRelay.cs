using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.GuardProxy;

/// <summary>Passes the upstream's requests to the person's client (elicitation, sampling, roots) and its notifications.</summary>
internal sealed class DownstreamRelay
{
    private static readonly string[] RelayedNotifications =
    [
        NotificationMethods.ProgressNotification,
        NotificationMethods.LoggingMessageNotification,
        NotificationMethods.ToolListChangedNotification,
        NotificationMethods.PromptListChangedNotification,
        NotificationMethods.ResourceListChangedNotification,
        NotificationMethods.ResourceUpdatedNotification,
    ];

    private IServiceProvider? _services;

    /// <summary>The client's <c>subscriptions/listen</c> requests (2026-07-28 revision).</summary>
    public SubscriptionListeners Listeners { get; } = new();

    public void Attach(IServiceProvider services) => _services = services;

    /// <summary>Whether the upstream notification <paramref name="method"/> is passed on to the client.</summary>
    public static bool IsRelayed(string method) => Array.IndexOf(RelayedNotifications, method) >= 0;

    /// <summary>
    /// Sends an upstream notification to the client (dropped while no client is connected yet). A client on the
    /// 2026-07-28 revision gets list-changed and resource-updated notifications only on the listens that asked for them.
    /// </summary>
    public async ValueTask RelayAsync(JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        if (Server is { } server)
        {
            if (SubscriptionListeners.Carries(notification.Method) && SubscriptionListeners.UsesListen(server.NegotiatedProtocolVersion))
            {
                await Listeners.RelayAsync(server, notification, cancellationToken);
                return;
            }

            await server.SendMessageAsync(new JsonRpcNotification { Method = notification.Method, Params = notification.Params }, cancellationToken);
        }
    }

    public async ValueTask<ElicitResult> ElicitAsync(ElicitRequestParams? request, CancellationToken cancellationToken)
    {
        if (request is null || Server is not { ClientCapabilities.Elicitation: not null } server)
        {
            // The person's client cannot be asked: answer as a person who declined.
            return new ElicitResult { Action = "decline" };
        }

        return await server.ElicitAsync(request, cancellationToken);
    }

    public async ValueTask<CreateMessageResult> SampleAsync(CreateMessageRequestParams? request, IProgress<ProgressNotificationValue> progress, CancellationToken cancellationToken)
    {
        if (request is null || Server is not { ClientCapabilities.Sampling: not null } server)
        {
            throw new McpException("the client behind GuardProxy does not support sampling");
        }

        return await server.SampleAsync(request, cancellationToken);
    }

    public async ValueTask<ListRootsResult> ListRootsAsync(ListRootsRequestParams? request, CancellationToken cancellationToken)
    {
        if (Server is not { ClientCapabilities.Roots: not null } server)
        {
            return new ListRootsResult { Roots = [] };
        }

        return await server.RequestRootsAsync(request ?? new ListRootsRequestParams(), cancellationToken);
    }

    private McpServer? Server => _services?.GetService<McpServer>();
}
