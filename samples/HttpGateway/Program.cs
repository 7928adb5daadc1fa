using Microsoft.AspNetCore.Authentication;
using PolicyEngine;
using PolicyEngine.Redis;
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
builder.Services.AddAntiforgery(o =>
{
    o.Cookie.Name = "pe_csrf";
    o.Cookie.Path = "/approvals";
    o.Cookie.SameSite = SameSiteMode.Strict;
});

// Counters and approvals shared between gateway instances: with Gateway:Redis set (a StackExchange.Redis
// configuration string such as "127.0.0.1:6379"), every instance pointing at that Redis shares each grant's limits
// and honours (once) an approval granted through any of them. AddPolicyEngine picks up the registered
// ICounterStore / IApprovalStore; without Gateway:Redis, counters and approvals stay in this process's memory.
// Gateway:RedisTimeout (default 1 s) bounds each Redis command and the initial connect.
if (builder.Configuration["Gateway:Redis"] is { Length: > 0 } redis)
{
    var timeout = builder.Configuration.GetValue("Gateway:RedisTimeout", TimeSpan.FromSeconds(1));
    var counters = RedisCounterStore.Connect(redis, new RedisCounterStoreOptions { Timeout = timeout });
    builder.Services.AddSingleton<ICounterStore>(counters);
    builder.Services.AddSingleton<IApprovalStore>(new RedisApprovalStore(counters.Connection));
}

// Gateway:ApprovalWebhook:Url and :Secret: every approval transition is POSTed there, HMAC-signed (docs/approvals.md).
if (builder.Configuration["Gateway:ApprovalWebhook:Url"] is { Length: > 0 } webhook)
{
    builder.Services.AddApprovalWebhook(o =>
    {
        o.Endpoint = new Uri(webhook);
        o.Secret = builder.Configuration["Gateway:ApprovalWebhook:Secret"];
    });
}

builder.Services.AddPolicyEngine(builder.Configuration.GetSection("PolicyEngine"), options =>
{
    if (options.PolicyPath is { } path && !Path.IsPathRooted(path) && !File.Exists(path))
    {
        options.PolicyPath = Path.Combine(AppContext.BaseDirectory, path);
    }

    // PolicyEngine:ShadowPolicyPath (a candidate evaluated beside the policy) is found the same way;
    // PolicyEngine:AuditPath (the hash-chained audit trail) is relative to the working directory.
    if (options.ShadowPolicyPath is { Length: > 0 } shadow && !Path.IsPathRooted(shadow) && !File.Exists(shadow))
    {
        options.ShadowPolicyPath = Path.Combine(AppContext.BaseDirectory, shadow);
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

// The approvals page (see ApprovalsPage.cs and docs/approvals.md): approvers sign in with their token at /approvals/login.
app.MapApprovalsPage();
app.Run();
