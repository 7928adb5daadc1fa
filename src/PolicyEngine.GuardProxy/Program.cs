using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using PolicyEngine.GuardProxy;
using PolicyEngine.ModelContextProtocol;

// policyengine-proxy: a stdio MCP proxy. It validates the policy, waits for its client's initialize request, starts
// the upstream MCP server as a child process (offering it what the client offers), and serves the upstream's tools
// (and prompts, resources, completions) on stdio, with every tools/call guarded and tools/list filtered.
// stdout carries the MCP protocol; every log line, the upstream's stderr included, goes to stderr.
var options = ProxyArguments.Parse(args, Console.Out, Console.Error, out var exitCode);
if (options is null)
{
    return exitCode;
}

// The guard's decisions (denials at Information, with their rule, "(hidden)" included) are the host's audit trail.
// The SDK client logs, as a warning, each method it tries that the upstream lacks (server/discover, for one,
// before it falls back to initialize): expected, so not logged; a real failure is reported by the proxy itself.
using var loggerFactory = LoggerFactory.Create(b => b
    .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
    .SetMinimumLevel(LogLevel.Warning)
    .AddFilter("PolicyEngine", LogLevel.Information)
    .AddFilter("ModelContextProtocol.Client", LogLevel.Error));
var log = loggerFactory.CreateLogger("policyengine-proxy");

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
            HideNeverAllowedTools = !options.ListNeverAllowed,
            ToolExists = (context, ct) => upstreamTools.ContainsAsync(context.Params!.Name, ct),
            AuditPath = options.Audit,
            ShadowPolicyPath = options.Shadow,
            ApprovalWait = options.ApprovalWait,
            ApprovalHoldTimeout = options.ApprovalHold,
        },
        loggerFactory.CreateLogger<PolicyGuard>(),
        approvalStore: options.Approvals is { } approvalsPath ? new PolicyEngine.Sqlite.SqliteApprovalStore(approvalsPath) : null);
}
catch (PolicyGuardException ex)
{
    Console.Error.WriteLine($"{ProxyArguments.Name}: {ex.Message}");
    return 1;
}

// Disposed last: writes what the audit trail has queued and closes it (the container does not dispose a guard it was handed).
using var guardOwner = guard;
if (UpstreamCommand.Problem(options.Command) is { } missing)
{
    Console.Error.WriteLine($"{ProxyArguments.Name}: {missing}");
    return 1;
}

// The client speaks first. Its initialize request says whether it offers roots: only then does the upstream see the
// roots capability (otherwise it keeps its own configuration, such as server-filesystem's directory arguments).
var stdin = Console.OpenStandardInput();
var hello = await ClientHello.ReadAsync(stdin, CancellationToken.None);
if (hello is null)
{
    return 0;
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
            ClientInfo = new Implementation { Name = "policyengine-proxy", Version = ProxyArguments.Version },
            Capabilities = new ClientCapabilities
            {
                Elicitation = new ElicitationCapability(),
                Sampling = new SamplingCapability(),
                Roots = hello.OffersRoots ? new RootsCapability { ListChanged = hello.RootsListChanged ? true : null } : null,
            },
            Handlers = new McpClientHandlers
            {
                ElicitationHandler = downstream.ElicitAsync,
                SamplingHandler = downstream.SampleAsync,
                RootsHandler = hello.OffersRoots ? downstream.ListRootsAsync : null,
            },
        },
        loggerFactory);
}
catch (Exception ex)
{
    var commandLine = string.Join(' ', options.CommandArguments.Prepend(options.Command));
    Console.Error.WriteLine($"{ProxyArguments.Name}: the upstream server '{commandLine}' did not complete the MCP handshake: {ex.Message}" +
        " (its standard error, above, prefixed [upstream], may say why)");
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
        Console.Error.WriteLine($"{ProxyArguments.Name}: cannot list the upstream server's tools: {ex.Message}");
        return 1;
    }

    var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
    builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.SetMinimumLevel(LogLevel.Information);
    builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);
    builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    builder.Services.AddSingleton(guard);
    var server = builder.Services
        .AddMcpServer(o =>
        {
            o.ServerInfo = new Implementation
            {
                Name = $"policyengine-proxy ({upstream.ServerInfo?.Name ?? "upstream"})",
                Version = upstream.ServerInfo?.Version ?? "0.0.0",
            };
            o.ServerInstructions = instructions;
            o.Capabilities = UpstreamRelay.Advertised(upstream.ServerCapabilities);
            o.Handlers.NotificationHandlers =
            [
                new(NotificationMethods.RootsListChangedNotification, async (_, ct) =>
                {
                    if (hello.RootsListChanged)
                    {
                        await upstream.SendNotificationAsync(NotificationMethods.RootsListChangedNotification, ct);
                    }
                }),
            ];
        })
        .WithStreamServerTransport(new ReplayStream(hello.Consumed, stdin), Console.OpenStandardOutput())
        .WithMessageFilters(filters => filters.AddIncomingFilter(next => (context, ct) =>
        {
            // Every other message passes untouched (a long-lived request such as subscriptions/listen is not awaited here).
            if (context.JsonRpcMessage is not (JsonRpcNotification { Method: NotificationMethods.InitializedNotification }
                or JsonRpcRequest { Method: RequestMethods.ServerDiscover }))
            {
                return next(context, ct);
            }

            // The client finishes its handshake (initialized, or server/discover on 2026-07-28, which has none): the
            // upstream's requests (roots/list) may be relayed to it once the SDK has taken it in.
            return MarkAfter(next(context, ct));

            async Task MarkAfter(Task handled)
            {
                await handled;
                downstream.MarkInitialized();
            }
        }))
        .WithPolicyEngine();
    UpstreamRelay.Configure(server, upstream, downstream.Listeners, upstreamTools);

    var app = builder.Build();
    downstream.Attach(app.Services);
    await app.RunAsync();
}

return 0;
