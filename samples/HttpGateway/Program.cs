using Microsoft.AspNetCore.Authentication;
using PolicyEngine.Samples.HttpGateway;

// An MCP server over streamable HTTP. Bearer tokens (Gateway:Tokens) map to grants; the policy's "grant"-scoped
// limits count per grant. Run: HttpGateway [--urls http://127.0.0.1:5080] [--PolicyEngine:PolicyPath FILE]
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);

builder.Services
    .AddAuthentication(BearerTokenHandler.SchemeName)
    .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, null);
builder.Services.AddAuthorization();

// Counters shared between gateway instances: PolicyEngine.Redis is not on main yet. When it is, register its
// store here when Gateway:Redis is set, e.g.
//   builder.Services.AddSingleton<ICounterStore>(RedisCounterStore.Connect(redis));
//   builder.Services.AddSingleton<IApprovalStore>(...RedisApprovalStore...);
// AddPolicyEngine picks up any registered ICounterStore / IApprovalStore; without one, counters are in memory.
if (!string.IsNullOrEmpty(builder.Configuration["Gateway:Redis"]))
{
    throw new InvalidOperationException("Gateway:Redis is set, but this build has no Redis store (PolicyEngine.Redis); unset it to count in memory");
}

builder.Services.AddPolicyEngine(builder.Configuration.GetSection("PolicyEngine"), options =>
{
    if (options.PolicyPath is { } path && !Path.IsPathRooted(path) && !File.Exists(path))
    {
        options.PolicyPath = Path.Combine(AppContext.BaseDirectory, path);
    }
});
builder.Services
    .AddMcpServer(o => o.ServerInfo = new() { Name = "HttpGateway", Version = "0.1.0" })
    .WithHttpTransport(o => o.Stateless = builder.Configuration.GetValue("Gateway:Stateless", false))
    .WithTools<GatewayTools>()
    .WithPolicyEngine();

var app = builder.Build();
app.UseAuthentication();
app.UseAuthorization();
app.MapMcp(builder.Configuration["Gateway:Path"] ?? "/mcp").RequireAuthorization();
app.Run();
