using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using PolicyEngine.Samples.PwnoStandIn;

// A stand-in for the Pwno MCP server, for tests and demos. IT IS NOT PWNO: it runs no debugger, no Python and no
// command. It lists Pwno's tool catalog and answers each call with a deterministic description of the call.
//   PwnoStandIn [--catalog tools-list.json] [--traffic FILE]
// --traffic (or the PWNO_STANDIN_TRAFFIC environment variable) names a JSON-lines file where every request the
// stand-in receives is appended, so a test can prove which calls reached it. stdout carries the MCP protocol; logs
// go to stderr.
string? catalogPath = null;
var trafficPath = Environment.GetEnvironmentVariable(StandInTraffic.Variable);
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--catalog" when i + 1 < args.Length:
            catalogPath = args[++i];
            break;
        case "--traffic" when i + 1 < args.Length:
            trafficPath = args[++i];
            break;
        default:
            Console.Error.WriteLine($"PwnoStandIn: unknown argument '{args[i]}'");
            Console.Error.WriteLine("usage: PwnoStandIn [--catalog tools-list.json] [--traffic FILE]");
            return 2;
    }
}

var catalog = StandInCatalog.Load(catalogPath ?? Path.Combine(AppContext.BaseDirectory, "tools-list.json"));
var traffic = new StandInTraffic(trafficPath);

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services
    .AddMcpServer(o =>
    {
        o.ServerInfo = new Implementation { Name = "PwnoStandIn (test fixture, not Pwno)", Version = "0.1.0" };
        o.ServerInstructions = "A stand-in for the Pwno MCP server used in tests: it lists Pwno's tools and runs none of them.";
    })
    .WithStdioServerTransport()
    .WithListToolsHandler((context, _) =>
    {
        traffic.Record("tools/list", null, null);
        return ValueTask.FromResult(new ListToolsResult { Tools = [.. catalog.Tools] });
    })
    .WithCallToolHandler((context, _) =>
    {
        var name = context.Params?.Name ?? "";
        var arguments = context.Params?.Arguments;
        traffic.Record("tools/call", name, arguments);
        return ValueTask.FromResult(catalog.Answer(name, arguments));
    });

await builder.Build().RunAsync();
return 0;
