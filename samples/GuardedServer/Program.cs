using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PolicyEngine.Samples.GuardedServer;

// A stdio MCP server whose tools are guarded in-process by a policy file.
//   GuardedServer [--policy FILE] [--identity ID] [--python-timeout SECONDS]
// stdout carries the MCP protocol; every log line goes to stderr.
var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = args });
builder.Configuration.AddEnvironmentVariables("GUARDEDSERVER_");
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
{
    ["--policy"] = "PolicyEngine:PolicyPath",
    ["--identity"] = "PolicyEngine:Identity",
    ["--python-timeout"] = "Python:TimeoutSeconds",
});
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Information);

builder.Services.AddSingleton<NoteStore>();
builder.Services.AddSingleton(new PythonRunner(TimeSpan.FromSeconds(builder.Configuration.GetValue("Python:TimeoutSeconds", 5.0))));
builder.Services.AddPolicyEngine(builder.Configuration.GetSection("PolicyEngine"), options =>
{
    options.PolicyPath ??= Path.Combine(AppContext.BaseDirectory, "policy.json");
});
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "GuardedServer", Version = "0.1.0" })
    .WithStdioServerTransport()
    .WithTools<SampleTools>()
    .WithPolicyEngine();

await builder.Build().RunAsync();
