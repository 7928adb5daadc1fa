using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.GuardProxy;

/// <summary>
/// Wraps the upstream transport so that the notifications the proxy relays (progress, log, list-changed) reach the
/// client in the order the upstream sent them, and before the response that followed them. The SDK handles each
/// incoming message on a task of its own, so a notification handler registered on the client races the response:
/// a tool's last progress notification could overtake the tool's result, and clients then drop it (the TypeScript
/// SDK reports "Received a progress notification for an unknown token"). Here the relayed notifications are sent
/// downstream, one at a time, as they are read; every other message is passed on only after them.
/// </summary>
internal sealed class OrderedUpstreamTransport(
    IClientTransport inner,
    Func<string, bool> isRelayed,
    Func<JsonRpcNotification, CancellationToken, ValueTask> relay) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Session(await inner.ConnectAsync(cancellationToken).ConfigureAwait(false), isRelayed, relay);

    private sealed class Session : ITransport
    {
        private readonly ITransport _inner;
        private readonly Func<string, bool> _isRelayed;
        private readonly Func<JsonRpcNotification, CancellationToken, ValueTask> _relay;
        private readonly Channel<JsonRpcMessage> _messages =
            Channel.CreateUnbounded<JsonRpcMessage>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _pump;

        public Session(ITransport inner, Func<string, bool> isRelayed, Func<JsonRpcNotification, CancellationToken, ValueTask> relay)
        {
            _inner = inner;
            _isRelayed = isRelayed;
            _relay = relay;
            _pump = Task.Run(PumpAsync);
        }

        public string? SessionId => _inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => _messages.Reader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default) =>
            _inner.SendMessageAsync(message, cancellationToken);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _inner.DisposeAsync().ConfigureAwait(false);
            try
            {
                await _pump.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private async Task PumpAsync()
        {
            Exception? failure = null;
            try
            {
                await foreach (var message in _inner.MessageReader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                {
                    if (message is JsonRpcNotification notification && _isRelayed(notification.Method))
                    {
                        try
                        {
                            await _relay(notification, _stop.Token).ConfigureAwait(false);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
                        {
                            // A notification that cannot be delivered (the client went away) is dropped, as before.
                            await Console.Error.WriteLineAsync($"GuardProxy: could not relay {notification.Method}: {ex.Message}").ConfigureAwait(false);
                        }

                        continue;
                    }

                    await _messages.Writer.WriteAsync(message, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            finally
            {
                _messages.Writer.TryComplete(failure);
            }
        }
    }
}
