using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using PolicyEngine.ModelContextProtocol;
using PolicyEngine.GuardProxy;

// A stdio MCP proxy: starts the upstream MCP server as a child process and serves its tools (and prompts,
// resources, completions) on stdio, with every tools/call guarded and tools/list filtered by the policy.
// stdout carries the MCP protocol; every log line, the upstream's stderr included, goes to stderr.
ProxyArguments options;
try
{
    options = ProxyArguments.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"GuardProxy: {ex.Message}");
    Console.Error.WriteLine(ProxyArguments.Usage);
    return 2;
}

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);

// The guard's decisions (denials at Information, with their rule, "(hidden)" included) are the host's audit trail.
using var loggerFactory = LoggerFactory.Create(b => b
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
    .SetMinimumLevel(LogLevel.Warning)
    .AddFilter("PolicyEngine", LogLevel.Information));
var log = loggerFactory.CreateLogger("GuardProxy");

// Validate the policy before starting anything: a bad policy must never run an unguarded upstream.
// A call to a tool the upstream does not list is answered by the proxy itself, exactly as a call to a hidden tool.
var upstreamTools = new UpstreamTools();
PolicyGuard guard;
try
{
    guard = new PolicyGuard(
        new PolicyEngineMcpOptions
        {
            PolicyPath = options.Policy,
            Format = options.Format,
            DocumentLoader = PolicyFormats.LoaderFor(options.Format),
            Identity = options.Identity ?? "anonymous",
            ToolExists = (context, ct) => upstreamTools.ContainsAsync(context.Params!.Name, ct),
        },
        loggerFactory.CreateLogger<PolicyGuard>());
}
catch (PolicyGuardException ex)
{
    Console.Error.WriteLine($"GuardProxy: {ex.Message}");
    return 1;
}

var downstream = new DownstreamRelay();
McpClient upstream;
try
{
    upstream = await McpClient.CreateAsync(
        new OrderedUpstreamTransport(
            new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "upstream",
                Command = options.Command,
                Arguments = [.. options.CommandArguments],
                StandardErrorLines = line => Console.Error.WriteLine($"[upstream] {line}"),
            }),
            DownstreamRelay.IsRelayed,
            (notification, ct) =>
            {
                if (notification.Method == NotificationMethods.ToolListChangedNotification)
                {
                    upstreamTools.Invalidate();
                }

                return downstream.RelayAsync(notification, ct);
            }),
        new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "GuardProxy", Version = "0.1.0" },
            Capabilities = new ClientCapabilities
            {
                Elicitation = new ElicitationCapability(),
                Sampling = new SamplingCapability(),
                Roots = new RootsCapability(),
            },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = downstream.ElicitAsync,
                SamplingHandler = downstream.SampleAsync,
                RootsHandler = downstream.ListRootsAsync,
            },
        },
        loggerFactory);
}
catch (Exception ex)
{
    log.LogError("cannot start the upstream server '{Command}': {Problem}", options.Command, ex.Message);
    guard.Dispose();
    return 1;
}

await using (upstream)
{
    upstreamTools.Attach(upstream);
    string? instructions;
    try
    {
        instructions = UpstreamTools.InstructionsWithout(
            upstream.ServerInstructions,
            await upstreamTools.NamesAsync(CancellationToken.None),
            guard.Evaluator,
            guard.ResolveIdentity(null, null));
    }
    catch (Exception ex)
    {
        log.LogError("cannot list the upstream server's tools: {Problem}", ex.Message);
        guard.Dispose();
        return 1;
    }

    builder.Services.AddSingleton(guard);
    var server = builder.Services
        .AddMcpServer(o =>
        {
            o.ServerInfo = new Implementation
            {
                Name = $"GuardProxy ({upstream.ServerInfo?.Name ?? "upstream"})",
                Version = upstream.ServerInfo?.Version ?? "0.0.0",
            };
            o.ServerInstructions = instructions;
            o.Capabilities = UpstreamRelay.Advertised(upstream.ServerCapabilities);
        })
        .WithStdioServerTransport()
        .WithPolicyEngine();
    UpstreamRelay.Configure(server, upstream, downstream.Listeners, upstreamTools);

    var app = builder.Build();
    downstream.Attach(app.Services);
    await app.RunAsync();
}

return 0;
