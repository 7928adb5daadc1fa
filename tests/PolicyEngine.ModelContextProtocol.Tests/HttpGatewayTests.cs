using System.Collections.Concurrent;
using System.Diagnostics;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>Starts one samples/HttpGateway on a free loopback port for the class.</summary>
public class GatewayFixture : IAsyncLifetime
{
    private Process? _process;

    public ConcurrentQueue<string> Output { get; } = new();

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Extra command-line configuration for the gateway (for example <c>--Gateway:Redis</c>).</summary>
    public string[] Arguments { get; init; } = [];

    public async ValueTask InitializeAsync()
    {
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}/mcp");
        _process = Start("HttpGateway", ["--urls", $"http://127.0.0.1:{port}", .. Arguments], Output);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        using var http = new HttpClient();
        while (true)
        {
            Assert.False(_process.HasExited, "HttpGateway exited: " + string.Join("\n", Output));
            try
            {
                // Unauthenticated: 401 proves the server is up.
                using var response = await http.GetAsync(Endpoint);
                break;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
    }

    public Task<McpClient> ConnectAsync(string token, Approver approver = Approver.None) =>
        Samples.ConnectAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = Endpoint,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }),
            approver);
}

/// <summary>The SDK client against samples/HttpGateway over streamable HTTP, with bearer tokens mapped to grants.</summary>
public sealed class HttpGatewayTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task ToolsList_HiddenToolVanishes()
    {
        await using var client = await gateway.ConnectAsync("bob-token");
        var names = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("get_forecast", names);
        Assert.DoesNotContain("internal_stats", names);
        Assert.Equal(McpErrorCode.InvalidParams, (await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(client, "internal_stats"))).ErrorCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("gateway-allow.json")]
    public async Task HiddenTool_AnsweredExactlyAsAnAbsentTool(string? policy)
    {
        // internal_stats is the gateway's and hidden (the sample policy: default deny; gateway-allow.json: default
        // allow); external_stats (as long) is no tool of the gateway. The two answers are the same HTTP response and
        // JSON-RPC message but for the name, raw and through the SDK client on its newest revision.
        await using var own = policy is null ? null : new GatewayFixture { Arguments = ["--PolicyEngine:PolicyPath", Policy(policy)] };
        if (own is not null)
        {
            await own.InitializeAsync();
        }

        var server = own ?? gateway;
        const string Hidden = "internal_stats", Absent = "external_stats";
        await using (var raw = await RawMcp.OverHttpAsync(server.Endpoint, "alice-token"))
        {
            var hidden = await raw.CallToolAsync(Hidden);
            var absent = await raw.CallToolAsync(Absent);
            Assert.Equal(RawMcp.Normalize(hidden, Hidden), RawMcp.Normalize(absent, Absent));
            Assert.Equal(-32602, hidden["error"]?["code"]?.GetValue<int>());
            Assert.DoesNotContain(Hidden, await raw.ListToolNamesAsync());
        }

        await using var client = await server.ConnectAsync("bob-token");
        Assert.Equal(await SdkAnswer.CallAsync(client, Hidden), await SdkAnswer.CallAsync(client, Absent));
        Assert.Contains(server.Output, line => line.Contains(Hidden, StringComparison.Ordinal) && line.Contains("(hidden)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Limits_CountPerGrant()
    {
        await using var alice = await gateway.ConnectAsync("alice-token");
        for (var i = 0; i < 3; i++)
        {
            var ok = await CallAsync(alice, "get_forecast", new { city = $"City{i}" });
            Assert.True(ok.IsError != true, Text(ok));
        }

        // A new session for the same grant shares the grant's counter.
        await using var aliceAgain = await gateway.ConnectAsync("alice-token");
        var limited = await CallAsync(aliceAgain, "get_forecast", new { city = "Oslo" });
        Assert.True(limited.IsError);
        Assert.Contains("at most 3 forecasts per minute per grant", Text(limited));
        Assert.Matches(@"Retry after \d+ seconds", Text(limited));

        await using var bob = await gateway.ConnectAsync("bob-token");
        var bobs = await CallAsync(bob, "get_forecast", new { city = "Oslo" });
        Assert.True(bobs.IsError != true, Text(bobs));
    }

    [Fact]
    public async Task UnknownToken_Rejected()
    {
        await Assert.ThrowsAnyAsync<Exception>(async () => await gateway.ConnectAsync("nobody-token"));
    }

    [Theory]
    [InlineData(null, "Bearer", "missing bearer token")]
    [InlineData("nobody-token", "Bearer error=\"invalid_token\"", "unknown bearer token")]
    public async Task Unauthorized_SaysWhyInHeaderAndBody(string? token, string challenge, string body)
    {
        // Clients show the 401 body in their error (the TypeScript SDK: "Error POSTing to endpoint: BODY").
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, gateway.Endpoint)
        {
            Content = new StringContent("""{"jsonrpc":"2.0","id":1,"method":"ping"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/json");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(challenge, response.Headers.WwwAuthenticate.ToString());
        Assert.Contains(body, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Approval_RolesAndElicitation()
    {
        await using var bob = await gateway.ConnectAsync("bob-token", Approver.Accepts);
        var notAnalyst = await CallAsync(bob, "export_report", new { name = "q3" });
        Assert.True(notAnalyst.IsError);
        Assert.Contains("only analysts may export reports", Text(notAnalyst));

        await using var declining = await gateway.ConnectAsync("alice-token", Approver.Declines);
        var declined = await CallAsync(declining, "export_report", new { name = "q3" });
        Assert.True(declined.IsError);
        Assert.Contains("did not approve", Text(declined));

        await using var accepting = await gateway.ConnectAsync("alice-token", Approver.Accepts);
        var exported = await CallAsync(accepting, "export_report", new { name = "q3" });
        Assert.True(exported.IsError != true, Text(exported));
        Assert.Equal("report 'q3' exported", Text(exported));
    }
}

/// <summary>Two gateway processes sharing one Redis (POLICYENGINE_REDIS): a grant's limit is counted across both.</summary>
public sealed class HttpGatewayRedisTests
{
    [Fact]
    public async Task Limits_SharedAcrossGatewayInstancesThroughRedis()
    {
        var redis = Environment.GetEnvironmentVariable("POLICYENGINE_REDIS");
        Assert.SkipWhen(string.IsNullOrEmpty(redis), "POLICYENGINE_REDIS is not set (CI always sets it)");

        // A grant id of its own, so that counts left in a shared Redis by earlier runs cannot interfere. Generous
        // Redis and store timeouts: CI runs every test assembly at once on two cores, and a cold gateway's first
        // round trip (connect, NOSCRIPT, EVAL) under that load is not a store failure.
        var grant = "carol-" + Guid.NewGuid().ToString("N");
        string[] arguments =
        [
            "--Gateway:Redis", redis!, "--Gateway:RedisTimeout", "00:00:10", "--PolicyEngine:StoreTimeout", "00:00:10",
            "--Gateway:Tokens:carol-token:Id", grant,
        ];
        await using var first = new GatewayFixture { Arguments = arguments };
        await using var second = new GatewayFixture { Arguments = arguments };
        await first.InitializeAsync();
        await second.InitializeAsync();

        // The limit is a sliding minute: the four calls count together wherever they fall in the calendar minute.
        await using var onFirst = await first.ConnectAsync("carol-token");
        await using var onSecond = await second.ConnectAsync("carol-token");
        Assert.True((await CallAsync(onFirst, "get_forecast", new { city = "Oslo" })).IsError != true);
        Assert.True((await CallAsync(onSecond, "get_forecast", new { city = "Bergen" })).IsError != true);
        Assert.True((await CallAsync(onFirst, "get_forecast", new { city = "Tromsø" })).IsError != true);

        // The limit is 3 per minute per grant: the fourth call is refused by whichever instance serves it.
        var limited = await CallAsync(onSecond, "get_forecast", new { city = "Bodø" });
        Assert.True(limited.IsError);
        Assert.Contains("at most 3 forecasts per minute per grant", Text(limited));
    }
}
