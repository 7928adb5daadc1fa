using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>The approval webhook against a local HTTP listener: signed, retried with backoff, never in the decision's way.</summary>
public sealed class WebhookApprovalNotifierTests
{
    private const string Secret = "a-shared-secret-of-some-length";

    private const string PolicyJson = """
        { "version": "2", "default": "deny", "tools": { "refund": { "approval": {
            "reason": "refunds need finance", "preview": ["args.amount"],
            "approvers": [ { "path": "identity.roles", "op": "contains", "value": "finance" } ] } } } }
        """;

    private sealed record Delivery(string Body, string Timestamp, string Signature, string DeliveryId);

    /// <summary>Answers each POST with the next status of <paramref name="statuses"/> (then 200), after <paramref name="gate"/> opens.</summary>
    private static (HttpListener Listener, Uri Endpoint, ConcurrentQueue<Delivery> Deliveries, Task Loop) Listen(Queue<int> statuses, Task? gate = null, Action? received = null)
    {
        var port = FreePort();
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/hook/");
        listener.Start();
        var deliveries = new ConcurrentQueue<Delivery>();
        var loop = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                deliveries.Enqueue(new Delivery(body, context.Request.Headers[WebhookApprovalNotifier.TimestampHeader]!, context.Request.Headers[WebhookApprovalNotifier.SignatureHeader]!, context.Request.Headers[WebhookApprovalNotifier.DeliveryHeader]!));
                received?.Invoke();
                if (gate is not null)
                {
                    await gate;
                }

                context.Response.StatusCode = statuses.Count > 0 ? statuses.Dequeue() : 200;
                context.Response.Close();
            }
        });
        return (listener, new Uri($"http://127.0.0.1:{port}/hook/"), deliveries, loop);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(condition(), "the webhook receiver did not get what was expected");
    }

    private static (PolicyEvaluator Evaluator, JsonElement Args) Evaluator(WebhookApprovalNotifier notifier)
    {
        var evaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(PolicyJson)));
        evaluator.ApprovalChanged += (_, change) => notifier.Notify(change);
        return (evaluator, JsonDocument.Parse("""{"amount": 4200, "card": "4111-SECRET"}""").RootElement);
    }

    [Fact]
    public async Task Requested_IsPostedSigned_AndRetriedAfterA5xx()
    {
        var (listener, endpoint, deliveries, loop) = Listen(new Queue<int>([503]));
        await using (var notifier = new WebhookApprovalNotifier(new WebhookApprovalNotifierOptions { Endpoint = endpoint, Secret = Secret, RetryDelay = TimeSpan.FromMilliseconds(20) }))
        {
            var (evaluator, args) = Evaluator(notifier);
            var pending = await evaluator.RequestApprovalAsync(evaluator.Evaluate(new PolicyIdentity("agent"), "refund", args), args, Ct);

            await WaitForAsync(() => deliveries.Count >= 2);
            var attempts = deliveries.ToArray();
            Assert.Equal(attempts[0].Body, attempts[1].Body);
            Assert.Equal(attempts[0].DeliveryId, attempts[1].DeliveryId);
            foreach (var attempt in attempts)
            {
                Assert.Equal(WebhookApprovalNotifier.Sign(Secret, attempt.Timestamp, attempt.Body), attempt.Signature);
                Assert.NotEqual(WebhookApprovalNotifier.Sign(Secret + "x", attempt.Timestamp, attempt.Body), attempt.Signature);
            }

            using var body = JsonDocument.Parse(attempts[0].Body);
            Assert.Equal("requested", body.RootElement.GetProperty("event").GetString());
            Assert.Equal(pending.Id, body.RootElement.GetProperty("request_id").GetString());
            Assert.Equal("4200", body.RootElement.GetProperty("request").GetProperty("preview").GetProperty("args.amount").GetString());
            Assert.DoesNotContain("4111-SECRET", attempts[0].Body, StringComparison.Ordinal);
        }

        listener.Stop();
        await loop;
    }

    [Fact]
    public async Task A4xx_IsNotRetried()
    {
        var (listener, endpoint, deliveries, loop) = Listen(new Queue<int>([400]));
        await using (var notifier = new WebhookApprovalNotifier(new WebhookApprovalNotifierOptions { Endpoint = endpoint, Secret = Secret, RetryDelay = TimeSpan.FromMilliseconds(20) }))
        {
            var (evaluator, args) = Evaluator(notifier);
            var pending = await evaluator.RequestApprovalAsync(evaluator.Evaluate(new PolicyIdentity("agent"), "refund", args), args, Ct);
            await evaluator.DenyAsync(pending.Id, PolicyIdentity.WithRoles("fiona", "finance"), "no", Ct);

            // Deliveries go out in order: once the denial arrived, the refused first delivery was not tried again.
            await WaitForAsync(() => deliveries.Count >= 2);
            var attempts = deliveries.ToArray();
            Assert.NotEqual(attempts[0].DeliveryId, attempts[1].DeliveryId);
            Assert.Contains("\"event\":\"denied\"", attempts[1].Body, StringComparison.Ordinal);
            Assert.Contains("\"comment\":\"no\"", attempts[1].Body, StringComparison.Ordinal);
        }

        listener.Stop();
        await loop;
    }

    [Fact]
    public async Task ASlowReceiver_NeverHoldsUpTheApproval()
    {
        var gate = new TaskCompletionSource();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var (listener, endpoint, deliveries, loop) = Listen(new Queue<int>(), gate.Task, () => received.TrySetResult());
        await using (var notifier = new WebhookApprovalNotifier(new WebhookApprovalNotifierOptions { Endpoint = endpoint, Secret = Secret, Timeout = TimeSpan.FromMinutes(5) }))
        {
            var (evaluator, args) = Evaluator(notifier);
            var pending = await evaluator.RequestApprovalAsync(evaluator.Evaluate(new PolicyIdentity("agent"), "refund", args), args, Ct);
            await received.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

            // The receiver holds the first POST open; approving and the decision that consumes it go ahead regardless.
            var approved = await evaluator.ApproveAsync(pending.Id, PolicyIdentity.WithRoles("fiona", "finance"), null, Ct);
            var decision = evaluator.Evaluate(new PolicyIdentity("agent"), "refund", args);
            Assert.False(gate.Task.IsCompleted);
            Assert.Equal(ApprovalOutcome.Approved, approved.Outcome);
            Assert.Equal(DecisionKind.Allow, decision.Kind);
            gate.SetResult();
            await WaitForAsync(() => deliveries.Count >= 3);
        }

        listener.Stop();
        await loop;
    }

    [Fact]
    public void Options_AreValidatedAllAtOnce()
    {
        var error = Assert.Throws<ArgumentException>(() => new WebhookApprovalNotifier(new WebhookApprovalNotifierOptions { Endpoint = new Uri("ftp://x/"), Secret = "short", MaxAttempts = 0 }));

        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("WebhookApprovalNotifierOptions.Endpoint must be an absolute http or https URL", error.Message, StringComparison.Ordinal);
        Assert.Contains("WebhookApprovalNotifierOptions.Secret must be at least 16 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("WebhookApprovalNotifierOptions.MaxAttempts must be between 1 and 100 (it is 0)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_DefaultsWithEndpointAndSecret_AreValid()
    {
        await using var notifier = new WebhookApprovalNotifier(new WebhookApprovalNotifierOptions { Endpoint = new Uri("https://example.invalid/hook"), Secret = "0123456789abcdef" });
        Assert.NotNull(notifier);
    }
}
