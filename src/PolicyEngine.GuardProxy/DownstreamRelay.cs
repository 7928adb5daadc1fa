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

    /// <summary>How long the upstream's roots/list may wait for the client to finish initializing.</summary>
    private static readonly TimeSpan InitializeWait = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IServiceProvider? _services;

    /// <summary>The client's <c>subscriptions/listen</c> requests (2026-07-28 revision).</summary>
    public SubscriptionListeners Listeners { get; } = new();

    public void Attach(IServiceProvider services) => _services = services;

    /// <summary>The client sent <c>notifications/initialized</c>: requests may now go to it.</summary>
    public void MarkInitialized() => _initialized.TrySetResult();

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
            throw new McpException("the client behind policyengine-proxy does not support sampling");
        }

        return await server.SampleAsync(request, cancellationToken);
    }

    /// <summary>
    /// The upstream's <c>roots/list</c>, asked of the client. The upstream is told of roots only when the client offers
    /// them, and typically asks at once, while the client is still initializing: the request waits for that.
    /// </summary>
    public async ValueTask<ListRootsResult> ListRootsAsync(ListRootsRequestParams? request, CancellationToken cancellationToken)
    {
        await _initialized.Task.WaitAsync(InitializeWait, cancellationToken);
        if (Server is not { ClientCapabilities.Roots: not null } server)
        {
            throw new McpException("the client behind policyengine-proxy does not support roots");
        }

        return await server.RequestRootsAsync(request ?? new ListRootsRequestParams(), cancellationToken);
    }

    private McpServer? Server => _services?.GetService<McpServer>();
}
