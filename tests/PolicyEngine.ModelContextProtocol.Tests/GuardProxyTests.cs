using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// GuardProxy in front of the third-party reference server <c>@modelcontextprotocol/server-everything</c>.
/// <c>.ci/run</c> installs it and sets <c>PE_SERVER_EVERYTHING</c> to its entry script; without the variable
/// (a local run that skipped the install) these tests skip. Every message the proxy sends upstream is recorded
/// (through <c>tee</c>), so the tests can prove that denied calls never reach the upstream.
/// </summary>
public sealed class GuardProxyTests
{
    private const string Variable = "PE_SERVER_EVERYTHING";

    private sealed class Proxy(McpClient client, string upstreamLog) : IAsyncDisposable
    {
        public McpClient Client { get; } = client;

        /// <summary>Everything the proxy has sent upstream so far.</summary>
        public string Upstream => File.Exists(upstreamLog) ? File.ReadAllText(upstreamLog) : "";

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }

    private static async Task<Proxy> StartAsync(string identity, Approver approver = Approver.None, string policy = "everything.json", string format = "json", string? protocolVersion = null)
    {
        var server = Environment.GetEnvironmentVariable(Variable);
        Assert.SkipWhen(string.IsNullOrEmpty(server), $"{Variable} is not set (.ci/run installs server-everything and sets it)");
        var log = Path.Combine(Directory.CreateTempSubdirectory("pe-proxy-").FullName, "upstream.jsonl");
        var client = await ConnectStdioAsync(
            "GuardProxy",
            ["--policy", Policy(policy), "--format", format, "--identity", identity, "--", "sh", "-c", "tee -a \"$0\" | exec node \"$1\" stdio", log, server!],
            approver,
            protocolVersion: protocolVersion);
        return new Proxy(client, log);
    }

    [Fact]
    public async Task ToolsList_HiddenToolsVanish_OthersRelayed()
    {
        await using var proxy = await StartAsync("alice");
        var names = (await proxy.Client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("echo", names);
        Assert.Contains("get-sum", names);
        Assert.DoesNotContain("get-env", names);
        Assert.DoesNotContain(names, n => n.StartsWith("gzip-", StringComparison.Ordinal));

        // Other capabilities are relayed too.
        Assert.NotEmpty(await proxy.Client.ListPromptsAsync(cancellationToken: Ct));

        // So are the upstream's instructions, which name its tools, without the lines that name a hidden one.
        var instructions = proxy.Client.ServerInstructions;
        Assert.Contains("toggle-subscriber-updates", instructions);
        Assert.DoesNotContain("gzip-file-as-resource", instructions);
    }

    [Fact]
    public async Task DeniedCalls_NeverReachUpstream()
    {
        await using var proxy = await StartAsync("alice");
        var allowed = await CallAsync(proxy.Client, "echo", new { message = "hello" });
        Assert.Equal("Echo: hello", Text(allowed));

        var secret = await CallAsync(proxy.Client, "echo", new { message = "my secret sauce" });
        Assert.True(secret.IsError);
        Assert.Contains("messages must not carry secrets", Text(secret));
        Assert.Contains("/tools/echo/deny_if/0", Text(secret));

        // A hidden tool is answered as a tool that does not exist (see HiddenTool_AnsweredExactlyAsAnAbsentTool).
        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(proxy.Client, "get-env"));
        Assert.Equal(McpErrorCode.InvalidParams, hidden.ErrorCode);
        var unlisted = await CallAsync(proxy.Client, "get-annotated-message", new { messageType = "error" });
        Assert.True(unlisted.IsError);
        Assert.Contains("(default deny)", Text(unlisted));

        var upstream = proxy.Upstream;
        Assert.Contains("hello", upstream);
        Assert.DoesNotContain("secret sauce", upstream);
        Assert.DoesNotContain("get-env", upstream);
        Assert.DoesNotContain("get-annotated-message", upstream);
    }

    [Theory]
    [InlineData("everything.json")]
    [InlineData("everything-allow.json")]
    public async Task HiddenTool_AnsweredExactlyAsAnAbsentTool(string policy)
    {
        // get-env is the upstream's and hidden; get-xyz (as long) is not the upstream's. Under default deny and
        // default allow alike, the two answers are the same JSON-RPC message but for the name, and neither call
        // reaches the upstream. tools/list omits get-env; the proxy's log (stderr, the host's side) says "(hidden)".
        var server = Environment.GetEnvironmentVariable(Variable);
        Assert.SkipWhen(string.IsNullOrEmpty(server), $"{Variable} is not set (.ci/run installs server-everything and sets it)");
        var log = Path.Combine(Directory.CreateTempSubdirectory("pe-proxy-").FullName, "upstream.jsonl");
        var stderr = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var proxy = await RawMcp.StartStdioAsync(
            "GuardProxy",
            ["--policy", Policy(policy), "--identity", "alice", "--", "sh", "-c", "tee -a \"$0\" | exec node \"$1\" stdio", log, server!],
            stderr);

        var hidden = await proxy.CallToolAsync("get-env");
        var absent = await proxy.CallToolAsync("get-xyz");
        Assert.Equal(RawMcp.Normalize(hidden, "get-env"), RawMcp.Normalize(absent, "get-xyz"));
        Assert.Equal((int)McpErrorCode.InvalidParams, hidden["error"]?["code"]?.GetValue<int>());

        var names = await proxy.ListToolNamesAsync();
        Assert.Contains("echo", names);
        Assert.DoesNotContain("get-env", names);

        // Asked again after a listing (the proxy's view of the upstream's tools is refreshed by it): still alike.
        Assert.Equal(RawMcp.Normalize(await proxy.CallToolAsync("get-env"), "get-env"), RawMcp.Normalize(await proxy.CallToolAsync("get-xyz"), "get-xyz"));

        // A visible tool still works, then nothing about the two names has reached the upstream.
        var echo = await proxy.CallToolAsync("echo", new JsonObject { ["message"] = "after" });
        Assert.Equal("Echo: after", echo["result"]?["content"]?[0]?["text"]?.GetValue<string>());
        var upstream = File.ReadAllText(log);
        Assert.DoesNotContain("get-env", upstream);
        Assert.DoesNotContain("get-xyz", upstream);
        Assert.Contains(stderr, line => line.Contains("get-env", StringComparison.Ordinal) && line.Contains("(hidden)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Limits_ApplyPerIdentity_AndFailedUpstreamCallsGiveQuotaBack()
    {
        await using var alice = await StartAsync("alice");

        // The upstream rejects these arguments (isError): the quota they reserved comes back.
        for (var i = 0; i < 3; i++)
        {
            var bad = await CallAsync(alice.Client, "get-sum", new { a = "one", b = 2 });
            Assert.True(bad.IsError);
            Assert.DoesNotContain("rate-limited", Text(bad));
        }

        Assert.Contains("3", Text(await CallAsync(alice.Client, "get-sum", new { a = 1, b = 2 })));
        Assert.Contains("7", Text(await CallAsync(alice.Client, "get-sum", new { a = 3, b = 4 })));
        var limited = await CallAsync(alice.Client, "get-sum", new { a = 5, b = 6 });
        Assert.True(limited.IsError);
        Assert.Contains("rate-limited", Text(limited));
        Assert.Matches(@"Retry after \d+ seconds", Text(limited));
        Assert.DoesNotContain("\"a\":5", alice.Upstream);

        await using var bob = await StartAsync("bob");
        Assert.Contains("11", Text(await CallAsync(bob.Client, "get-sum", new { a = 5, b = 6 })));
    }

    [Fact]
    public async Task Approval_Accepted_CallRuns()
    {
        await using var proxy = await StartAsync("alice", Approver.Accepts);
        var result = await CallAsync(proxy.Client, "echo", new { message = "approve: ship it" });
        Assert.True(result.IsError != true, Text(result));
        Assert.Equal("Echo: approve: ship it", Text(result));
    }

    [Fact]
    public async Task Approval_Declined_CallNeverReachesUpstream()
    {
        await using var proxy = await StartAsync("alice", Approver.Declines);
        var result = await CallAsync(proxy.Client, "echo", new { message = "approve: drop tables" });
        Assert.True(result.IsError);
        Assert.Contains("did not approve", Text(result));

        await using var noElicitation = await StartAsync("alice");
        var refused = await CallAsync(noElicitation.Client, "echo", new { message = "approve: drop tables" });
        Assert.True(refused.IsError);
        Assert.Contains("does not support elicitation", Text(refused));

        Assert.DoesNotContain("drop tables", proxy.Upstream);
        Assert.DoesNotContain("drop tables", noElicitation.Upstream);
    }

    [Fact]
    public async Task MalformedCalls_DeniedAndNeverForwarded()
    {
        await using var proxy = await StartAsync("alice");
        var huge = new string('x', 2 * 1024 * 1024);
        string[] malformed =
        [
            """{"arguments":{"message":"no-name-marker"}}""",
            """{"name":"echo","arguments":"non-object-marker"}""",
            """{"name":"echo","arguments":["array-marker"]}""",
            """{"name":"","arguments":{"message":"empty-name-marker"}}""",
            "{\"name\":\"echo\",\"arguments\":{\"message\":\"huge-marker" + huge + "\"}}",
        ];

        foreach (var body in malformed)
        {
            var request = new JsonRpcRequest { Method = RequestMethods.ToolsCall, Params = JsonNode.Parse(body) };
            try
            {
                var response = await proxy.Client.SendRequestAsync(request, Ct);
                Assert.True(response.Result?["isError"]?.GetValue<bool>() == true, $"not denied: {body[..Math.Min(80, body.Length)]}");
            }
            catch (McpException)
            {
                // An invalid-params error: denied.
            }
        }

        // The proxy still works, and none of the malformed calls reached the upstream.
        Assert.Equal("Echo: after", Text(await CallAsync(proxy.Client, "echo", new { message = "after" })));
        var upstream = proxy.Upstream;
        foreach (var marker in new[] { "no-name-marker", "non-object-marker", "array-marker", "empty-name-marker", "huge-marker" })
        {
            Assert.DoesNotContain(marker, upstream);
        }
    }

    [Fact]
    public async Task InterceptFormat_PolicyImportedAndEnforced()
    {
        await using var proxy = await StartAsync("alice", policy: "everything-intercept.yaml", format: "intercept");
        var names = (await proxy.Client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.DoesNotContain("get-env", names);
        Assert.Contains("intercept says no secrets", Text(await CallAsync(proxy.Client, "echo", new { message = "a secret" })));
        Assert.Equal("Echo: fine", Text(await CallAsync(proxy.Client, "echo", new { message = "fine" })));
        Assert.True((await CallAsync(proxy.Client, "get-sum", new { a = 1, b = 2 })).IsError != true);
        Assert.True((await CallAsync(proxy.Client, "get-sum", new { a = 1, b = 2 })).IsError);
        Assert.DoesNotContain("a secret", proxy.Upstream);
    }

    [Fact]
    public async Task ResourceSubscribe_RelayedToTheUpstream_UpdatesReachTheClient()
    {
        // resources/subscribe and resources/unsubscribe exist up to the 2025-11-25 revision.
        await using var proxy = await StartAsync("alice", protocolVersion: "2025-11-25");
        Assert.True(proxy.Client.ServerCapabilities.Resources?.Subscribe, "the upstream's subscribe capability is not advertised");
        var uri = (await proxy.Client.ListResourcesAsync(cancellationToken: Ct))[0].Uri;

        var updated = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await proxy.Client.SubscribeToResourceAsync(
            uri,
            (notification, _) =>
            {
                updated.TrySetResult(notification.Uri);
                return ValueTask.CompletedTask;
            },
            cancellationToken: Ct);
        await using (subscription)
        {
            Assert.Contains("\"resources/subscribe\"", proxy.Upstream);
            await ExpectUpdateAsync(proxy, updated.Task, uri);
        }

        // Disposing the subscription sent resources/unsubscribe, which the proxy relayed and the upstream answered.
        Assert.Contains("\"resources/unsubscribe\"", proxy.Upstream);
    }

    [Fact]
    public async Task SubscriptionsListen_SubscribesUpstream_UpdatesReachTheListen()
    {
        // The 2026-07-28 revision (the SDK client's default) replaced resources/subscribe with one long-lived
        // subscriptions/listen request; the proxy subscribes upstream for it and tags each update with its id.
        await using var proxy = await StartAsync("alice");
        Assert.True(proxy.Client.ServerCapabilities.Resources?.Subscribe, "the upstream's subscribe capability is not advertised");
        var uri = (await proxy.Client.ListResourcesAsync(cancellationToken: Ct))[0].Uri;

        var acknowledged = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var updated = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onAck = proxy.Client.RegisterNotificationHandler(NotificationMethods.SubscriptionsAcknowledgedNotification, (n, _) =>
        {
            acknowledged.TrySetResult(n.Params);
            return ValueTask.CompletedTask;
        });
        await using var onUpdate = proxy.Client.RegisterNotificationHandler(NotificationMethods.ResourceUpdatedNotification, (n, _) =>
        {
            updated.TrySetResult(n.Params);
            return ValueTask.CompletedTask;
        });

        using var listening = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var listen = proxy.Client.SendRequestAsync(
            new JsonRpcRequest
            {
                Id = new RequestId("listen-1"),
                Method = RequestMethods.SubscriptionsListen,
                Params = new JsonObject { ["notifications"] = new JsonObject { ["resourceSubscriptions"] = new JsonArray(uri) } },
            },
            listening.Token);
        try
        {
            var ack = await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(uri, ack?["notifications"]?["resourceSubscriptions"]?[0]?.GetValue<string>());
            Assert.Equal("listen-1", ack?["_meta"]?[MetaKeys.SubscriptionId]?.GetValue<string>());
            Assert.Contains("\"resources/subscribe\"", proxy.Upstream);

            await ExpectUpdateAsync(proxy, updated.Task.ContinueWith(t => t.Result?["uri"]?.GetValue<string>(), TaskScheduler.Default), uri);
            Assert.Equal("listen-1", (await updated.Task)?["_meta"]?[MetaKeys.SubscriptionId]?.GetValue<string>());
        }
        finally
        {
            await listening.CancelAsync();
        }

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listen);

        // Ending the listen unsubscribes upstream.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!proxy.Upstream.Contains("\"resources/unsubscribe\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Ct);
        }

        Assert.Contains("\"resources/unsubscribe\"", proxy.Upstream);
    }

    /// <summary>
    /// Turns on server-everything's simulated updates, which sends notifications/resources/updated for every subscribed
    /// URI at once and then every 5 seconds, waits for <paramref name="uri"/>'s, and turns them off again.
    /// </summary>
    private static async Task ExpectUpdateAsync(Proxy proxy, Task<string?> updatedUri, string uri)
    {
        var on = await CallAsync(proxy.Client, "toggle-subscriber-updates");
        Assert.True(on.IsError != true, Text(on));
        try
        {
            Assert.Equal(uri, await updatedUri.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        }
        finally
        {
            await CallAsync(proxy.Client, "toggle-subscriber-updates");
        }
    }

    [Fact]
    public async Task ProgressNotifications_ReachTheClientBeforeTheResult()
    {
        // Raw stdio, because the SDK client itself handles each message on a task of its own and cannot see the
        // wire order. The upstream sends every progress notification before its result; the proxy must not let
        // the result overtake them (clients drop progress for a request that has completed).
        var server = Environment.GetEnvironmentVariable(Variable);
        Assert.SkipWhen(string.IsNullOrEmpty(server), $"{Variable} is not set (.ci/run installs server-everything and sets it)");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { Dll("GuardProxy"), "--policy", Policy("everything.json"), "--identity", "alice", "--", "node", server!, "stdio" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(90));
            async Task<JsonNode> ReadAsync()
            {
                while (true)
                {
                    var line = await process.StandardOutput.ReadLineAsync(timeout.Token) ?? throw new InvalidOperationException("GuardProxy closed stdout");
                    if (line.Length > 0)
                    {
                        return JsonNode.Parse(line)!;
                    }
                }
            }

            async Task SendAsync(string json)
            {
                await process.StandardInput.WriteLineAsync(json);
                await process.StandardInput.FlushAsync(timeout.Token);
            }

            await SendAsync("""{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""");
            while ((await ReadAsync())["id"]?.GetValue<string>() != "init")
            {
            }

            await SendAsync("""{"jsonrpc":"2.0","method":"notifications/initialized"}""");
            for (var call = 1; call <= 8; call++)
            {
                await SendAsync(
                    """{"jsonrpc":"2.0","id":""" + call.ToString(System.Globalization.CultureInfo.InvariantCulture) +
                    ""","method":"tools/call","params":{"name":"trigger-long-running-operation","arguments":{"duration":0.03,"steps":3},"_meta":{"progressToken":"p""" +
                    call.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"}}}");
                var progress = new List<double>();
                while (true)
                {
                    var message = await ReadAsync();
                    if (message["method"]?.GetValue<string>() == "notifications/progress")
                    {
                        Assert.Equal($"p{call}", message["params"]!["progressToken"]!.GetValue<string>());
                        progress.Add(message["params"]!["progress"]!.GetValue<double>());
                    }
                    else if (message["id"] is { } id && id.GetValue<int>() == call)
                    {
                        Assert.True(message["result"]?["isError"]?.GetValue<bool>() != true, message.ToJsonString());
                        break;
                    }
                }

                Assert.Equal([1d, 2d, 3d], progress);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }
}
