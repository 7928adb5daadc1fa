using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PolicyEngine.Approvals;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>
/// An <see cref="IApprovalNotifier"/> that POSTs every approval transition as JSON to a URL, signed with HMAC-SHA256,
/// from a background loop: <see cref="Notify"/> only queues, so a slow or failing receiver never holds up a decision.
/// A failed POST (a network error, a timeout, a 5xx, 408 or 429) is retried with exponential backoff; other 4xx
/// answers are final.
/// </summary>
/// <remarks>
/// <para>Body: <c>{"event": "requested", "at": "…", "delivery": "…", "request_id": "…", "tool": "…", "identity": "…",
/// "approver": "…", "comment": "…", "request": { … the <see cref="PendingApproval.ToJson"/> form … }}</c>.</para>
/// <para>Headers: <c>X-PolicyEngine-Timestamp</c> (Unix seconds), <c>X-PolicyEngine-Delivery</c> (random, the same on
/// every retry), and <c>X-PolicyEngine-Signature: sha256=HEX</c>, the HMAC of <c>timestamp + "." + body</c> under the
/// shared secret. Receivers should check the signature and reject old timestamps.</para>
/// </remarks>
public sealed partial class WebhookApprovalNotifier : IApprovalNotifier, IAsyncDisposable
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-PolicyEngine-Signature";

    /// <summary>The timestamp header.</summary>
    public const string TimestampHeader = "X-PolicyEngine-Timestamp";

    /// <summary>The delivery id header.</summary>
    public const string DeliveryHeader = "X-PolicyEngine-Delivery";

    private readonly Uri _endpoint;
    private readonly byte[] _secret;
    private readonly int _maxAttempts;
    private readonly TimeSpan _retryDelay;
    private readonly TimeSpan _timeout;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<ApprovalEvent> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <summary>Creates the notifier and starts its sending loop.</summary>
    /// <param name="options">Endpoint, secret, retries; copied, so later changes have no effect.</param>
    /// <param name="http">The client to send with (default: a new one, disposed with the notifier).</param>
    /// <param name="logger">Where failures are logged.</param>
    /// <param name="timeProvider">The clock for timestamps and backoff (default: the system clock).</param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public WebhookApprovalNotifier(WebhookApprovalNotifierOptions options, HttpClient? http = null, ILogger<WebhookApprovalNotifier>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options).ThrowIfAny();
        _endpoint = options.Endpoint!;
        _secret = Encoding.UTF8.GetBytes(options.Secret!);
        _maxAttempts = options.MaxAttempts;
        _retryDelay = options.RetryDelay;
        _timeout = options.Timeout;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient();
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _queue = Channel.CreateBounded<ApprovalEvent>(new BoundedChannelOptions(options.QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
        _loop = Task.Run(SendLoopAsync);
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(WebhookApprovalNotifierOptions options)
    {
        var problems = new OptionsProblems(nameof(WebhookApprovalNotifierOptions));
        if (options.Endpoint is not { IsAbsoluteUri: true } endpoint || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add(nameof(options.Endpoint), "must be an absolute http or https URL");
        }

        if (options.Secret is not { Length: >= 16 })
        {
            problems.Add(nameof(options.Secret), "must be at least 16 characters");
        }

        if (options.MaxAttempts is < 1 or > 100)
        {
            problems.Add(nameof(options.MaxAttempts), $"must be between 1 and 100 (it is {options.MaxAttempts})");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromHours(1))
        {
            problems.Add(nameof(options.RetryDelay), $"must be between 0 and an hour (it is {options.RetryDelay})");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            problems.Add(nameof(options.Timeout), $"must be positive (it is {options.Timeout})");
        }

        if (options.QueueCapacity < 1)
        {
            problems.Add(nameof(options.QueueCapacity), $"must be positive (it is {options.QueueCapacity})");
        }

        return problems;
    }

    /// <inheritdoc/>
    public void Notify(ApprovalEvent change)
    {
        if (change is null || !_queue.Writer.TryWrite(change))
        {
            LogDropped(_logger, change?.RequestId ?? "(none)");
        }
    }

    /// <summary>The signature of <paramref name="body"/> sent at <paramref name="timestamp"/>: <c>sha256=</c> and the lowercase hex HMAC.</summary>
    /// <param name="secret">The shared secret.</param>
    /// <param name="timestamp">The <see cref="TimestampHeader"/> value.</param>
    /// <param name="body">The request body.</param>
    /// <returns>The <see cref="SignatureHeader"/> value.</returns>
    public static string Sign(string secret, string timestamp, string body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(body);
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(timestamp + "." + body)));
    }

    /// <summary>Stops sending (what is still queued is dropped) and releases the client it made.</summary>
    /// <returns>A task that completes when the loop has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task SendLoopAsync()
    {
        await foreach (var change in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
        {
            var body = Body(change, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), out var delivery);
            var delay = _retryDelay;
            for (var attempt = 1; attempt <= _maxAttempts; attempt++)
            {
                var (sent, retry, problem) = await SendAsync(body, delivery).ConfigureAwait(false);
                if (sent)
                {
                    break;
                }

                if (!retry || attempt == _maxAttempts)
                {
                    LogGaveUp(_logger, change.RequestId, attempt, problem);
                    break;
                }

                LogRetrying(_logger, change.RequestId, attempt, problem);
                await Task.Delay(delay, _time, _stop.Token).ConfigureAwait(false);
                delay = delay + delay;
            }
        }
    }

    private async Task<(bool Sent, bool Retry, string Problem)> SendAsync(string body, string delivery)
    {
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(TimestampHeader, timestamp);
        request.Headers.Add(DeliveryHeader, delivery);
        request.Headers.Add(SignatureHeader, "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(_secret, Encoding.UTF8.GetBytes(timestamp + "." + body))));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_timeout);
        try
        {
            using var response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return (true, false, string.Empty);
            }

            var retry = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
            return (false, retry, $"HTTP {status}");
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !_stop.IsCancellationRequested)
        {
            return (false, true, ex.Message);
        }
    }

    private static string Body(ApprovalEvent change, string delivery, out string deliveryId)
    {
        deliveryId = delivery;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", ApprovalEventKindNames.Of(change.Kind));
            writer.WriteString("at", change.At.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            writer.WriteString("delivery", delivery);
            writer.WriteString("request_id", change.RequestId);
            writer.WriteString("tool", change.Tool);
            writer.WriteString("identity", change.IdentityId);
            if (change.ApproverId is not null)
            {
                writer.WriteString("approver", change.ApproverId);
            }

            if (change.Comment is not null)
            {
                writer.WriteString("comment", change.Comment);
            }

            if (change.Request is { } request)
            {
                writer.WritePropertyName("request");
                request.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    [LoggerMessage(EventId = 30, Level = LogLevel.Warning, Message = "approval webhook: notification for {RequestId} dropped (the queue is full)")]
    private static partial void LogDropped(ILogger logger, string requestId);

    [LoggerMessage(EventId = 31, Level = LogLevel.Information, Message = "approval webhook: attempt {Attempt} for {RequestId} failed ({Problem}); retrying")]
    private static partial void LogRetrying(ILogger logger, string requestId, int attempt, string problem);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "approval webhook: gave up on {RequestId} after {Attempt} attempt(s) ({Problem})")]
    private static partial void LogGaveUp(ILogger logger, string requestId, int attempt, string problem);
}
