using System.Collections.Concurrent;
using System.ComponentModel;
using System.IO.Pipelines;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>The tools of the in-process servers below. <c>admin_reset</c> is the one the policies hide.</summary>
[McpServerToolType]
public sealed class ProbeTools
{
    private static int _adminRuns;

    public static int AdminRuns => Volatile.Read(ref _adminRuns);

    [McpServerTool(Name = "echo"), Description("Returns the message unchanged.")]
    public static string Echo(string message) => message;

    [McpServerTool(Name = "list_notes"), Description("Lists notes.")]
    public static string ListNotes() => "(no notes)";

    [McpServerTool(Name = "admin_reset"), Description("Hidden by every policy of these tests.")]
    public static string AdminReset()
    {
        Interlocked.Increment(ref _adminRuns);
        return "reset";
    }
}

/// <summary>
/// DESIGN §7: a hidden tool is indistinguishable, to the agent, from a tool that does not exist. The adapter guards an
/// MCP server in this process (stream transport over pipes); a raw JSON-RPC client compares whole answers.
/// </summary>
public sealed class HiddenToolTests
{
    /// <summary>Hidden by the policies; a tool of the server.</summary>
    internal const string Hidden = "admin_reset";

    /// <summary>No tool of the server has this name (as long as <see cref="Hidden"/>, and not covered by <c>hide</c>).</summary>
    internal const string Absent = "admin_relax";

    public static TheoryData<string, bool> Policies => new()
    {
        { """{ "version": "2", "default": "allow", "hide": ["admin_reset"] }""", false },
        { """{ "version": "2", "default": "deny", "hide": ["admin_reset"], "tools": { "echo": {}, "list_notes": {} } }""", false },
        { """{ "version": "2", "default": "allow", "hide": ["*"] }""", false },
        { """{ "version": "2", "default": "allow", "hide": ["admin_reset"] }""", true },
        { """{ "version": "2", "default": "deny", "hide": ["admin_*"], "tools": { "echo": {}, "list_notes": {} } }""", true },
    };

    [Theory]
    [MemberData(nameof(Policies))]
    public async Task HiddenTool_AnsweredExactlyAsAnAbsentTool(string policy, bool paged)
    {
        // What the SDK's own server answers for a tool it does not have: the reference, taken from the SDK itself.
        string reference;
        await using (var plain = await InProcessServer.StartAsync(policy: null, paged: false))
        {
            reference = RawMcp.Normalize(await plain.Client.CallToolAsync(Absent), Absent);
        }

        Assert.Contains("\"error\"", reference);

        var runsBefore = ProbeTools.AdminRuns;
        await using var guarded = await InProcessServer.StartAsync(policy, paged);
        var hidden = await guarded.Client.CallToolAsync(Hidden);
        var absent = await guarded.Client.CallToolAsync(Absent);
        Assert.Equal(reference, RawMcp.Normalize(hidden, Hidden));
        Assert.Equal(reference, RawMcp.Normalize(absent, Absent));

        // tools/list omits the hidden tool (every tool under "*"), across pages too, in one page: no empty or short
        // page with a cursor shows where a hidden tool was taken out.
        var firstPage = await guarded.Client.RequestAsync(RequestMethods.ToolsList, new JsonObject());
        Assert.Null(firstPage["result"]?["nextCursor"]);
        var names = await guarded.Client.ListToolNamesAsync();
        Assert.DoesNotContain(Hidden, names);
        Assert.Equal(policy.Contains("\"*\"", StringComparison.Ordinal) ? [] : ["echo", "list_notes"], names.Order().ToArray());

        // The host's audit trail still says why; the tool never ran.
        Assert.Contains(guarded.Decisions, e => e.Tool == Hidden && e.Decision.Rule == BuiltInRules.Hidden && e.Decision.Kind == DecisionKind.Deny);
        Assert.Equal(runsBefore, ProbeTools.AdminRuns);
    }

    [Fact]
    public async Task HiddenTool_WithTooLargeArguments_StillAnsweredAsAnAbsentTool()
    {
        // Arguments over MaxArgumentsBytes are refused before the policy runs, naming the tool; a hidden or missing
        // tool must not be told apart by that refusal either.
        var huge = new JsonObject { ["data"] = new string('x', 2 * 1024 * 1024) };
        string reference;
        await using (var plain = await InProcessServer.StartAsync(policy: null, paged: false))
        {
            reference = RawMcp.Normalize(await plain.Client.CallToolAsync(Absent, huge.DeepClone().AsObject()), Absent);
        }

        await using var guarded = await InProcessServer.StartAsync("""{ "version": "2", "default": "allow", "hide": ["admin_reset"] }""", paged: false);
        Assert.Equal(reference, RawMcp.Normalize(await guarded.Client.CallToolAsync(Hidden, huge.DeepClone().AsObject()), Hidden));
        Assert.Equal(reference, RawMcp.Normalize(await guarded.Client.CallToolAsync(Absent, huge.DeepClone().AsObject()), Absent));
        Assert.Contains("larger than", (await guarded.Client.CallToolAsync("echo", huge.DeepClone().AsObject())).ToJsonString());
        Assert.Contains(guarded.Decisions, e => e.Tool == Hidden && e.Decision.Rule == BuiltInRules.Hidden);
    }

    [Fact]
    public async Task VisibleTools_StillAnsweredByThePolicy()
    {
        // Only hidden tools look absent: a tool the policy denies by name stays visible and says why.
        const string policy = """{ "version": "2", "default": "deny", "hide": ["admin_reset"], "tools": { "echo": { "action": "deny", "on_deny": "echo is off" } } }""";
        await using var guarded = await InProcessServer.StartAsync(policy, paged: false);
        var denied = await guarded.Client.CallToolAsync("echo", new JsonObject { ["message"] = "hi" });
        Assert.Contains("echo is off", denied["result"]?["content"]?[0]?["text"]?.GetValue<string>());
        var unlisted = await guarded.Client.CallToolAsync("list_notes");
        Assert.Contains("(default deny)", unlisted["result"]?["content"]?[0]?["text"]?.GetValue<string>());
    }

    /// <summary>An MCP server in this process, guarded when a policy is given, with a raw client on pipes.</summary>
    private sealed class InProcessServer : IAsyncDisposable
    {
        private static readonly string[] PagedTools = ["echo", "admin_reset", "list_notes"];

        private InProcessServer(RawMcp client, ConcurrentQueue<DecisionEvent> decisions)
        {
            Client = client;
            Decisions = decisions;
        }

        public RawMcp Client { get; }

        /// <summary>Every decision the guard's evaluator published (the host's audit trail).</summary>
        public ConcurrentQueue<DecisionEvent> Decisions { get; }

        /// <param name="policy">The policy JSON; <see langword="null"/> for a server without a guard.</param>
        /// <param name="paged">
        /// Serve the tools from handlers of the host's own (one tool per <c>tools/list</c> page, a call handler that
        /// knows the names) instead of the SDK's tool collection; the guard then learns which tools exist from
        /// <see cref="PolicyEngineMcpOptions.ToolExists"/>.
        /// </param>
        public static async Task<InProcessServer> StartAsync(string? policy, bool paged)
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            var mcp = builder.Services
                .AddMcpServer(o => o.ServerInfo = new Implementation { Name = "probe", Version = "1.0" })
                .WithStreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream());
            if (paged)
            {
                mcp.WithListToolsHandler((context, _) =>
                    {
                        var index = int.Parse(context.Params?.Cursor ?? "0", System.Globalization.CultureInfo.InvariantCulture);
                        return ValueTask.FromResult(new ListToolsResult
                        {
                            Tools = [new Tool { Name = PagedTools[index], InputSchema = System.Text.Json.JsonDocument.Parse("""{"type":"object"}""").RootElement }],
                            NextCursor = index + 1 < PagedTools.Length ? (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
                        });
                    })
                    .WithCallToolHandler((context, _) => context.Params!.Name switch
                    {
                        "admin_reset" => ValueTask.FromResult(new CallToolResult { Content = [new TextContentBlock { Text = ProbeTools.AdminReset() }] }),
                        "echo" or "list_notes" => ValueTask.FromResult(new CallToolResult { Content = [new TextContentBlock { Text = "ok" }] }),
                        var name => throw new McpProtocolException($"Unknown tool: '{name}'", McpErrorCode.InvalidParams),
                    });
            }
            else
            {
                mcp.WithTools<ProbeTools>();
            }

            if (policy is not null)
            {
                mcp.WithPolicyEngine(o =>
                {
                    o.Policy = global::PolicyEngine.Policy.Compile(PolicyDocument.Parse(policy));
                    if (paged)
                    {
                        o.ToolExists = (context, _) => ValueTask.FromResult(Array.IndexOf(PagedTools, context.Params?.Name) >= 0);
                    }
                });
            }

            var host = builder.Build();
            var decisions = new ConcurrentQueue<DecisionEvent>();
            if (policy is not null)
            {
                host.Services.GetRequiredService<PolicyGuard>().Evaluator.DecisionMade += (_, e) => decisions.Enqueue(e);
            }

            await host.StartAsync(Ct);
            var owner = new HostOwner(host, toServer, toClient);
            return new InProcessServer(await RawMcp.OverStreamsAsync(toServer.Writer.AsStream(), toClient.Reader.AsStream(), owner), decisions);
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();

        private sealed class HostOwner(IHost host, Pipe toServer, Pipe toClient) : IAsyncDisposable
        {
            public async ValueTask DisposeAsync()
            {
                await toServer.Writer.CompleteAsync();
                await host.StopAsync(CancellationToken.None);
                host.Dispose();
                await toClient.Reader.CompleteAsync();
            }
        }
    }
}
