using System.ComponentModel;
using System.IO.Pipelines;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

[McpServerToolType]
public sealed class RefundTools
{
    [McpServerTool(Name = "refund"), Description("Refunds an amount.")]
    public static string Refund(int amount) => $"refunded {amount}";
}

/// <summary>
/// The adapter's wait modes for approvals by the policy's approvers: return at once with the request id, hold the call
/// open (with progress notifications) until an approver acts, and never elicitation for a rule with approvers.
/// The guarded server runs in this process; the SDK's client talks to it over pipes.
/// </summary>
public sealed class ApprovalWaitTests
{
    private static string PolicyJson(string wait) => $$"""
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "refund": {
              "approval": {
                "reason": "refunds need finance",
                "approvers": [ { "path": "identity.roles", "op": "contains", "value": "finance" } ]
                {{wait}}
              }
            }
          }
        }
        """;

    private static readonly PolicyIdentity Finance = PolicyIdentity.WithRoles("fiona", "finance");

    [Fact]
    public async Task Return_AnswersWithTheRequestId_RetryAfterApprovalRunsOnce()
    {
        await using var server = await GuardedServer.StartAsync(PolicyJson(""), o => o.ApprovalWait = ApprovalWaitMode.Return);

        var first = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 5 }, cancellationToken: Ct);
        var pending = Assert.Single(await server.Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct));

        Assert.True(first.IsError);
        Assert.Contains(pending.Id, Text(first), StringComparison.Ordinal);
        Assert.Contains("not run", Text(first), StringComparison.Ordinal);
        Assert.Equal(ApprovalOutcome.Approved, (await server.Guard.Evaluator.ApproveAsync(pending.Id, Finance, "ok", Ct)).Outcome);
        var retried = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 5 }, cancellationToken: Ct);
        Assert.Equal("refunded 5", Text(retried));
        var again = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 5 }, cancellationToken: Ct);
        Assert.True(again.IsError);
        Assert.DoesNotContain(pending.Id, Text(again), StringComparison.Ordinal);
        Assert.Equal(0, server.Elicitations);
    }

    [Fact]
    public async Task Hold_SendsProgress_AndRunsTheCallWhenAnApproverApproves()
    {
        await using var server = await GuardedServer.StartAsync(PolicyJson(""", "wait": "hold" """), o => o.ApprovalProgressInterval = TimeSpan.FromMilliseconds(50));
        var progressed = new TaskCompletionSource<ProgressNotificationValue>(TaskCreationOptions.RunContinuationsAsynchronously);
        var progress = new Progress<ProgressNotificationValue>(value => progressed.TrySetResult(value));

        var held = server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 7 }, progress, cancellationToken: Ct).AsTask();
        var update = await progressed.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        var pending = Assert.Single(await server.Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct));
        Assert.False(held.IsCompleted);
        Assert.Contains(pending.Id, update.Message, StringComparison.Ordinal);
        await server.Guard.Evaluator.ApproveAsync(pending.Id, Finance, null, Ct);

        var result = await held.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal("refunded 7", Text(result));
        Assert.Equal(ApprovalStatus.Consumed, (await server.Guard.Evaluator.GetApprovalAsync(pending.Id, Ct))!.Status);
    }

    [Fact]
    public async Task Hold_DeniedByAnApprover_TellsTheAgentWhy()
    {
        await using var server = await GuardedServer.StartAsync(PolicyJson(""), o => o.ApprovalWait = ApprovalWaitMode.Hold);

        var held = server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 9 }, cancellationToken: Ct).AsTask();
        var pending = await server.WaitForPendingAsync();
        await server.Guard.Evaluator.DenyAsync(pending.Id, Finance, "duplicate refund", Ct);

        var result = await held.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.True(result.IsError);
        Assert.Contains("denied by an approver", Text(result), StringComparison.Ordinal);
        Assert.Contains("duplicate refund", Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hold_NobodyActs_AnswersPendingWhenTheHoldRunsOut()
    {
        await using var server = await GuardedServer.StartAsync(PolicyJson(""", "wait": "hold" """), o => o.ApprovalHoldTimeout = TimeSpan.FromMilliseconds(300));

        var result = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 3 }, cancellationToken: Ct);

        var pending = Assert.Single(await server.Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct));
        Assert.True(result.IsError);
        Assert.Contains(pending.Id, Text(result), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuleWithApprovers_NeverAsksTheCaller_EvenWhenTheHostSaysElicit()
    {
        await using var server = await GuardedServer.StartAsync(PolicyJson(""), o => o.ApprovalWait = ApprovalWaitMode.Elicit);

        var result = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 5 }, cancellationToken: Ct);

        Assert.True(result.IsError);
        Assert.Equal(0, server.Elicitations);
        Assert.Single(await server.Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct));
        Assert.Equal(ApprovalWaitMode.Return, server.Guard.WaitModeFor(server.Guard.Evaluator.Evaluate(new PolicyIdentity("anonymous"), "refund", System.Text.Json.JsonDocument.Parse("""{"amount":5}""").RootElement).Approval!));
    }

    [Fact]
    public async Task RuleWithoutApprovers_StillElicitsByDefault()
    {
        await using var server = await GuardedServer.StartAsync("""{ "version": "2", "default": "deny", "tools": { "refund": { "approval": { "reason": "confirm" } } } }""");

        var result = await server.Client.CallToolAsync("refund", new Dictionary<string, object?> { ["amount"] = 5 }, cancellationToken: Ct);

        Assert.Equal("refunded 5", Text(result));
        Assert.Equal(1, server.Elicitations);
        Assert.Empty(await server.Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct));
    }

    private static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    private sealed class GuardedServer : IAsyncDisposable
    {
        private readonly IHost _host;
        private readonly Pipe _toServer;
        private readonly Pipe _toClient;
        private int _elicitations;

        private GuardedServer(IHost host, Pipe toServer, Pipe toClient)
        {
            _host = host;
            _toServer = toServer;
            _toClient = toClient;
        }

        public McpClient Client { get; private set; } = null!;

        public PolicyGuard Guard => _host.Services.GetRequiredService<PolicyGuard>();

        public int Elicitations => Volatile.Read(ref _elicitations);

        public static async Task<GuardedServer> StartAsync(string policy, Action<PolicyEngineMcpOptions>? configure = null)
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services
                .AddMcpServer(o => o.ServerInfo = new Implementation { Name = "refunds", Version = "1.0" })
                .WithStreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream())
                .WithTools<RefundTools>()
                .WithPolicyEngine(o =>
                {
                    o.Policy = global::PolicyEngine.Policy.Compile(PolicyDocument.Parse(policy));
                    configure?.Invoke(o);
                });
            var host = builder.Build();
            await host.StartAsync(Ct);
            var server = new GuardedServer(host, toServer, toClient);
            server.Client = await McpClient.CreateAsync(
                new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()),
                new McpClientOptions
                {
                    Handlers = new McpClientHandlers
                    {
                        ElicitationHandler = (_, _) =>
                        {
                            Interlocked.Increment(ref server._elicitations);
                            return ValueTask.FromResult(new ElicitResult { Action = "accept", Content = new Dictionary<string, System.Text.Json.JsonElement> { [PolicyGuard.ApproveField] = System.Text.Json.JsonDocument.Parse("true").RootElement } });
                        },
                    },
                },
                cancellationToken: Ct);
            return server;
        }

        public async Task<PendingApproval> WaitForPendingAsync()
        {
            for (var i = 0; i < 600; i++)
            {
                if ((await Guard.Evaluator.ListApprovalsAsync(cancellationToken: Ct)).FirstOrDefault() is { } pending)
                {
                    return pending;
                }

                await Task.Delay(50, Ct);
            }

            throw new TimeoutException("no request was queued");
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await _toServer.Writer.CompleteAsync();
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
            await _toClient.Reader.CompleteAsync();
        }
    }
}
