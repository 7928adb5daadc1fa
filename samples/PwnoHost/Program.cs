using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using PolicyEngine.ModelContextProtocol;

// A C# host that embeds the guard in-process (PolicyEngine.ModelContextProtocol) and runs the Pwno MCP server as
// its child: the agent talks MCP over stdio to this host, every tools/call is decided here before it is forwarded to
// Pwno, and tools/list is filtered. The whole integration is AddPolicyEngine + WithPolicyEngine; the two handlers
// only forward to the child.
//   PwnoHost [--policy FILE] [--identity ID] -- COMMAND [ARGS...]
// --policy defaults to the starter policy copied next to the binary (samples/Pwno/policy.json). Settings can also
// come from PWNOHOST_* environment variables (PWNOHOST_PolicyEngine__Identity=alice). stdout carries the MCP
// protocol; every log line, and the child's stderr, goes to stderr.
var split = Array.IndexOf(args, "--");
if (split < 0 || split == args.Length - 1)
{
    Console.Error.WriteLine("usage: PwnoHost [--policy FILE] [--identity ID] -- COMMAND [ARGS...]");
    return 2;
}

string[] own = args[..split];
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Configuration.AddEnvironmentVariables("PWNOHOST_");
builder.Configuration.AddCommandLine(own, new Dictionary<string, string>
{
    ["--policy"] = "PolicyEngine:PolicyPath",
    ["--identity"] = "PolicyEngine:Identity",
});
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("ModelContextProtocol", LogLevel.Warning);

// The names Pwno lists, so that a call naming a tool it does not have is answered like a hidden one (the SDK's
// "Unknown tool"): the guard cannot see a tool collection behind a CallToolHandler of our own. Fetched at start,
// refetched after Pwno says its list changed.
IReadOnlySet<string> pwnoTools = new HashSet<string>(StringComparer.Ordinal);
builder.Services.AddPolicyEngine(builder.Configuration.GetSection("PolicyEngine"), options =>
{
    options.PolicyPath ??= Path.Combine(AppContext.BaseDirectory, "policy.json");
    options.ToolExists = (context, _) => ValueTask.FromResult(context.Params?.Name is { } name && Volatile.Read(ref pwnoTools).Contains(name));
});

McpClient? pwno = null;
builder.Services
    .AddMcpServer(o => o.ServerInfo = new Implementation { Name = "PwnoHost", Version = "0.1.0" })
    .WithStdioServerTransport()
    .WithListToolsHandler(async (context, ct) => await pwno!.ListToolsAsync(context.Params ?? new ListToolsRequestParams(), ct))
    .WithCallToolHandler((context, ct) => pwno!.CallToolAsync(context.Params!, ct))
    .WithPolicyEngine();
var app = builder.Build();

// Load the policy before starting Pwno: an invalid policy must never leave an unguarded server running.
try
{
    _ = app.Services.GetRequiredService<PolicyGuard>();
}
catch (PolicyGuardException ex)
{
    Console.Error.WriteLine($"PwnoHost: {ex.Message}");
    return 1;
}

try
{
    pwno = await McpClient.CreateAsync(new StdioClientTransport(new StdioClientTransportOptions
    {
        Name = "pwno",
        Command = args[split + 1],
        Arguments = args[(split + 2)..],
        StandardErrorLines = line => Console.Error.WriteLine($"[pwno] {line}"),
    }));
}
catch (Exception ex)
{
    Console.Error.WriteLine($"PwnoHost: cannot start '{args[split + 1]}': {ex.Message}");
    return 1;
}

async Task RefreshToolsAsync(CancellationToken cancellationToken) =>
    Volatile.Write(ref pwnoTools, (await pwno.ListToolsAsync(cancellationToken: cancellationToken)).Select(t => t.Name).ToHashSet(StringComparer.Ordinal));

await using (pwno)
{
    await RefreshToolsAsync(CancellationToken.None);
    await using var listChanged = pwno.RegisterNotificationHandler(
        NotificationMethods.ToolListChangedNotification,
        async (_, ct) => await RefreshToolsAsync(ct));
    await app.RunAsync();
}

return 0;
