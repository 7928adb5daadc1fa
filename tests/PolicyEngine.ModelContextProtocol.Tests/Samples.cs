using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>Finds and starts the samples from their build output, and builds SDK clients for them.</summary>
internal static class Samples
{
    private static readonly string Root = Metadata("SamplesDirectory");
    private static readonly string SourceRoot = Metadata("SourceDirectory");
    private static readonly string Configuration = Metadata("Configuration");

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// A sample's assembly, or the <c>policyengine-proxy</c> tool's for <c>GuardProxy</c> (it ships from
    /// <c>src/PolicyEngine.GuardProxy</c>).
    /// </summary>
    public static string Dll(string sample) => sample == "GuardProxy"
        ? Path.Combine(SourceRoot, "PolicyEngine.GuardProxy", "bin", Configuration, "net10.0", "PolicyEngine.GuardProxy.dll")
        : Path.Combine(Root, sample, "bin", Configuration, "net10.0", sample + ".dll");

    public static string Policy(string name) => Path.Combine(AppContext.BaseDirectory, "Policies", name);

    /// <summary>Copies a policy to a fresh temporary file the test may edit.</summary>
    public static string CopyPolicy(string name)
    {
        var directory = Directory.CreateTempSubdirectory("pe-mcp-");
        var path = Path.Combine(directory.FullName, "policy.json");
        File.Copy(Policy(name), path);
        return path;
    }

    /// <summary>Starts <c>dotnet DLL ARGS</c> as a stdio MCP server and connects the SDK client to it.</summary>
    public static Task<McpClient> ConnectStdioAsync(
        string sample,
        IEnumerable<string> arguments,
        Approver approver = Approver.None,
        Action<string>? stderr = null,
        string? protocolVersion = null) =>
        ConnectAsync(
            new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = sample,
                Command = "dotnet",
                Arguments = [Dll(sample), .. arguments],
                StandardErrorLines = stderr ?? (_ => { }),
            }),
            approver,
            protocolVersion);

    /// <summary>Connects the SDK client; <paramref name="protocolVersion"/> pins a revision (default: the latest).</summary>
    public static async Task<McpClient> ConnectAsync(IClientTransport transport, Approver approver, string? protocolVersion = null)
    {
        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "PolicyEngine.Tests", Version = "1.0" },
            ProtocolVersion = protocolVersion,

            // policyengine-proxy answers its client's first message once its upstream is up (it offers the upstream
            // what the client offers). On a loaded CI machine that can take longer than the SDK's 5 s server/discover
            // probe, after which the client falls back to initialize (2025-11-25); the tests of 2026-07-28 behaviour
            // (subscriptions/listen) need the probe answered.
            DiscoverProbeTimeout = TimeSpan.FromSeconds(30),
        };
        if (approver != Approver.None)
        {
            options.Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability() };
            options.Handlers = new McpClientHandlers
            {
                ElicitationHandler = (request, _) => ValueTask.FromResult(approver == Approver.Accepts
                    ? new ElicitResult
                    {
                        Action = "accept",
                        Content = new Dictionary<string, JsonElement>
                        {
                            ["approve"] = JsonSerializer.SerializeToElement(true),
                            ["ok"] = JsonSerializer.SerializeToElement(true),
                        },
                    }
                    : new ElicitResult { Action = "decline" }),
            };
        }

        using var startup = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        startup.CancelAfter(TimeSpan.FromSeconds(60));
        return await McpClient.CreateAsync(transport, options, cancellationToken: startup.Token);
    }

    public static async Task<CallToolResult> CallAsync(McpClient client, string tool, object? args = null)
    {
        var arguments = args is null
            ? new Dictionary<string, object?>()
            : JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(args))!;
        return await client.CallToolAsync(tool, arguments, cancellationToken: Ct);
    }

    public static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(c => c.Text));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts a sample as a plain process (for the HTTP gateway), logging its output to a buffer.</summary>
    public static Process Start(string sample, IEnumerable<string> arguments, System.Collections.Concurrent.ConcurrentQueue<string> output)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,

            // The sample's own folder: a relative path in its settings (HttpGateway's "policy.json") must not find
            // another sample's file that the build copied next to this test assembly.
            WorkingDirectory = Path.GetDirectoryName(Dll(sample))!,
        };
        start.ArgumentList.Add(Dll(sample));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string Metadata(string key) =>
        typeof(Samples).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

public enum Approver
{
    /// <summary>The client declares no elicitation support.</summary>
    None,

    /// <summary>Answers every approval request with accept.</summary>
    Accepts,

    /// <summary>Answers every approval request with decline.</summary>
    Declines,
}
