using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.Browser.Tests;

/// <summary>samples/HttpGateway on a free loopback port, as a separate process; stopped by its PID.</summary>
public sealed partial class Gateway : IAsyncDisposable
{
    private readonly Process _process;

    private Gateway(Process process, Uri root)
    {
        _process = process;
        Root = root;
    }

    public Uri Root { get; }

    public ConcurrentQueue<string> Output { get; } = new();

    public static async Task<Gateway> StartAsync(params string[] arguments)
    {
        var port = FreePort();
        var root = new Uri($"http://127.0.0.1:{port}/");
        var dll = Metadata("GatewayDll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(root.ToString().TrimEnd('/'));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var gateway = new Gateway(process, root);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) gateway.Output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            Assert.False(process.HasExited, "HttpGateway exited: " + string.Join("\n", gateway.Output));
            try
            {
                using var response = await http.GetAsync(new Uri(root, "approvals/login"));
                if (response.IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, "HttpGateway did not answer within 60 s: " + string.Join("\n", gateway.Output));
            await Task.Delay(200);
        }
    }

    /// <summary>An MCP client (the agent) authenticated by <paramref name="token"/>.</summary>
    public Task<McpClient> ConnectAsync(string token) =>
        McpClient.CreateAsync(
            new HttpClientTransport(new HttpClientTransportOptions
            {
                Endpoint = new Uri(Root, "mcp"),
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {token}" },
            }),
            cancellationToken: TestContext.Current.CancellationToken);

    public static string Text(CallToolResult result) => Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;

    /// <summary>The request id in a pending answer.</summary>
    public static string RequestId(CallToolResult result)
    {
        Assert.True(result.IsError, Text(result));
        var match = RequestIdPattern().Match(Text(result));
        Assert.True(match.Success, "no request id in: " + Text(result));
        return match.Groups[1].Value;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    public static string Metadata(string key) =>
        typeof(Gateway).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("Approval request id: ([0-9a-f]{32})")]
    private static partial Regex RequestIdPattern();
}
