using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.GuardProxy;

/// <summary>
/// Resource subscriptions and list-changed notifications for a client on the 2026-07-28 revision, which replaced
/// <c>resources/subscribe</c> and unsolicited notifications with one long-lived <c>subscriptions/listen</c> request
/// (SEP-2575). The proxy answers that request itself: it grants what the upstream supports, subscribes upstream to
/// the listed resources (with <c>resources/subscribe</c>, which the upstream's own revision uses), acknowledges, and
/// then delivers each upstream notification to the listens that asked for it, tagged with the listen's id. Ending
/// the listen (the client cancels it) unsubscribes upstream. The SDK's built-in handler cannot be used: it would
/// grant the subscriptions but knows nothing of the upstream's notifications.
/// </summary>
internal sealed class SubscriptionListeners
{
    private sealed record Listener(RequestId Id, JsonNode? Tag, SubscriptionsListenNotifications Granted);

    private static readonly TimeSpan UnsubscribeTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<RequestId, Listener> _listeners = new();
    private readonly Dictionary<string, int> _upstream = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>The first revision with <c>subscriptions/listen</c> (the SDK keeps its list of revisions internal).</summary>
    private const string ListenRevision = "2026-07-28";

    /// <summary>Whether a client on <paramref name="protocolVersion"/> receives these notifications only through listens.</summary>
    public static bool UsesListen(string? protocolVersion) =>
        protocolVersion is not null && string.CompareOrdinal(protocolVersion, ListenRevision) >= 0;

    /// <summary>Whether <paramref name="method"/> is delivered on a listen rather than to the whole session.</summary>
    public static bool Carries(string method) => method is
        NotificationMethods.ToolListChangedNotification or
        NotificationMethods.PromptListChangedNotification or
        NotificationMethods.ResourceListChangedNotification or
        NotificationMethods.ResourceUpdatedNotification;

    /// <summary>The <c>subscriptions/listen</c> handler: runs for as long as the client keeps the request open.</summary>
    public async ValueTask<EmptyResult> ListenAsync(McpClient upstream, RequestContext<SubscriptionsListenRequestParams> context, CancellationToken cancellationToken)
    {
        var requested = context.Params?.Notifications ?? new SubscriptionsListenNotifications();
        var capabilities = upstream.ServerCapabilities;
        var granted = new SubscriptionsListenNotifications
        {
            ToolsListChanged = requested.ToolsListChanged == true && capabilities.Tools?.ListChanged == true ? true : null,
            PromptsListChanged = requested.PromptsListChanged == true && capabilities.Prompts?.ListChanged == true ? true : null,
            ResourcesListChanged = requested.ResourcesListChanged == true && capabilities.Resources?.ListChanged == true ? true : null,
            ResourceSubscriptions = requested.ResourceSubscriptions is { Count: > 0 } uris && capabilities.Resources?.Subscribe == true
                ? [.. uris.Distinct(StringComparer.Ordinal)]
                : null,
        };

        var id = context.JsonRpcRequest.Id;
        var subscribed = new List<string>();
        try
        {
            // An upstream error (an unknown resource, say) fails the listen with that error, before any ack.
            foreach (var uri in granted.ResourceSubscriptions ?? [])
            {
                await SubscribeUpstreamAsync(upstream, uri, cancellationToken);
                subscribed.Add(uri);
            }

            var listener = new Listener(id, JsonSerializer.SerializeToNode(id, McpJsonUtilities.DefaultOptions), granted);
            var ack = JsonSerializer.SerializeToNode(new SubscriptionsAcknowledgedNotificationParams { Notifications = granted }, McpJsonUtilities.DefaultOptions);
            await SendAsync(context.Server, listener, NotificationMethods.SubscriptionsAcknowledgedNotification, ack, cancellationToken);
            _listeners[id] = listener;
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The client ended the listen (notifications/cancelled) or went away.
            }
            finally
            {
                _listeners.TryRemove(id, out _);
            }
        }
        finally
        {
            foreach (var uri in subscribed)
            {
                await UnsubscribeUpstreamAsync(upstream, uri);
            }
        }

        return new EmptyResult();
    }

    /// <summary>Delivers an upstream notification to every listen that was granted it.</summary>
    public async ValueTask RelayAsync(McpServer server, JsonRpcNotification notification, CancellationToken cancellationToken)
    {
        var uri = notification.Method == NotificationMethods.ResourceUpdatedNotification
            ? (notification.Params?["uri"] as JsonValue)?.GetValue<string>()
            : null;
        foreach (var listener in _listeners.Values)
        {
            var granted = listener.Granted;
            var wanted = notification.Method switch
            {
                NotificationMethods.ToolListChangedNotification => granted.ToolsListChanged == true,
                NotificationMethods.PromptListChangedNotification => granted.PromptsListChanged == true,
                NotificationMethods.ResourceListChangedNotification => granted.ResourcesListChanged == true,
                NotificationMethods.ResourceUpdatedNotification => uri is not null && granted.ResourceSubscriptions?.Contains(uri) == true,
                _ => false,
            };
            if (wanted)
            {
                await SendAsync(server, listener, notification.Method, notification.Params, cancellationToken);
            }
        }
    }

    private static Task SendAsync(McpServer server, Listener listener, string method, JsonNode? parameters, CancellationToken cancellationToken)
    {
        var body = parameters?.DeepClone() as JsonObject ?? [];
        if (body["_meta"] is not JsonObject meta)
        {
            meta = [];
            body["_meta"] = meta;
        }

        // stdio has one channel: the id lets the client tell which listen a notification belongs to.
        meta[MetaKeys.SubscriptionId] = listener.Tag?.DeepClone();
        return server.SendMessageAsync(new JsonRpcNotification { Method = method, Params = body }, cancellationToken);
    }

    // The upstream is subscribed once per URI however many listens want it.
    private async Task SubscribeUpstreamAsync(McpClient upstream, string uri, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var count = _upstream.GetValueOrDefault(uri);
            if (count == 0)
            {
                await upstream.SubscribeToResourceAsync(new SubscribeRequestParams { Uri = uri }, cancellationToken);
            }

            _upstream[uri] = count + 1;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task UnsubscribeUpstreamAsync(McpClient upstream, string uri)
    {
        using var timeout = new CancellationTokenSource(UnsubscribeTimeout);
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            var count = _upstream.GetValueOrDefault(uri) - 1;
            if (count > 0)
            {
                _upstream[uri] = count;
                return;
            }

            _upstream.Remove(uri);
            await upstream.UnsubscribeFromResourceAsync(new UnsubscribeRequestParams { Uri = uri }, timeout.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The upstream went away (shutting down) or refused: nothing is left to deliver either way.
            await Console.Error.WriteLineAsync($"GuardProxy: could not unsubscribe upstream from {uri}: {ex.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }
}
