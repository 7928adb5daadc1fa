using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// The seed's scenario end to end: the Pwno starter policy (samples/Pwno/policy.json) guarding the Pwno stand-in
/// (samples/PwnoStandIn, a fixture that lists Pwno's 36 tools and runs nothing), driven by the SDK's client over real
/// stdio, in both shapes docs/pwno.md describes: GuardProxy in front of the server, and PwnoHost, a C# host embedding
/// the guard in-process with the server as its child. The stand-in records every request it receives, so the tests
/// prove what reached it.
/// </summary>
public sealed partial class PwnoTests(ITestOutputHelper output)
{
    /// <summary>The two shapes: a proxy process in front of Pwno, and a host embedding the guard.</summary>
    public static TheoryData<string> Shapes => ["GuardProxy", "PwnoHost"];

    private static readonly string StarterPolicy = Policy("pwno.json");

    private static readonly string[] HiddenTools = ["fetch_repo", "install_python_packages", "get_retdec_status", "get_decompiled_code"];

    /// <summary>A guarded stand-in, the client connected to it, and the stand-in's record of what reached it.</summary>
    private sealed class Guarded(McpClient client, string trafficPath, Approvals approvals) : IAsyncDisposable
    {
        public McpClient Client { get; } = client;

        public Approvals Approvals { get; } = approvals;

        /// <summary>Every tools/call the stand-in received: (tool, arguments as JSON text).</summary>
        public List<(string Tool, string Arguments)> Calls()
        {
            var calls = new List<(string, string)>();
            if (!File.Exists(trafficPath))
            {
                return calls;
            }

            foreach (var line in File.ReadAllLines(trafficPath))
            {
                var entry = JsonNode.Parse(line)!;
                if ((string?)entry["method"] == "tools/call")
                {
                    calls.Add(((string)entry["name"]!, entry["arguments"]?.ToJsonString() ?? "{}"));
                }
            }

            return calls;
        }

        public ValueTask DisposeAsync() => Client.DisposeAsync();
    }

    /// <summary>The person behind the client: records each approval request and answers it as told.</summary>
    private sealed class Approvals
    {
        public List<string> Asked { get; } = [];

        public bool Approve { get; set; }

        public ValueTask<ElicitResult> AnswerAsync(ElicitRequestParams? request, CancellationToken cancellationToken)
        {
            lock (Asked)
            {
                Asked.Add(request?.Message ?? "");
            }

            return ValueTask.FromResult(Approve
                ? new ElicitResult { Action = "accept", Content = new Dictionary<string, JsonElement> { [PolicyGuard.ApproveField] = JsonSerializer.SerializeToElement(true) } }
                : new ElicitResult { Action = "decline" });
        }
    }

    private static async Task<Guarded> StartAsync(string shape, string identity)
    {
        var traffic = Path.Combine(Directory.CreateTempSubdirectory("pe-pwno-").FullName, "traffic.jsonl");
        var approvals = new Approvals();
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = shape,
            Command = "dotnet",
            Arguments = [Dll(shape), "--policy", StarterPolicy, "--identity", identity, "--", "dotnet", Dll("PwnoStandIn"), "--traffic", traffic],
            StandardErrorLines = _ => { },
        });
        var options = new McpClientOptions
        {
            ClientInfo = new Implementation { Name = "PolicyEngine.Tests", Version = "1.0" },
            Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability() },
            Handlers = new McpClientHandlers { ElicitationHandler = approvals.AnswerAsync },
        };
        using var startup = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        startup.CancelAfter(TimeSpan.FromSeconds(60));
        return new Guarded(await McpClient.CreateAsync(transport, options, cancellationToken: startup.Token), traffic, approvals);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task ToolsList_DenialsAndApprovals_OnlyAllowedCallsReachPwno(string shape)
    {
        await using var pwno = await StartAsync(shape, "alice");

        // tools/list: the catalog minus the hidden network tools and spawn_process, which "action": "deny" refuses
        // to every caller (HideNeverAllowedTools, on by default); schemas relayed unchanged.
        using var catalog = JsonDocument.Parse(File.ReadAllBytes(Policy("pwno-tools-list.json")));
        var catalogTools = catalog.RootElement.GetProperty("tools").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t);
        var listed = await pwno.Client.ListToolsAsync(cancellationToken: Ct);
        Assert.Equal(
            catalogTools.Keys.Except(HiddenTools).Except(["spawn_process"]).Order(StringComparer.Ordinal),
            listed.Select(t => t.Name).Order(StringComparer.Ordinal));
        var python = listed.Single(t => t.Name == "execute_python_code");
        Assert.True(JsonElement.DeepEquals(catalogTools["execute_python_code"].GetProperty("inputSchema"), python.ProtocolTool.InputSchema));

        // Allowed: inspection and debugger calls reach the stand-in.
        var context = await CallAsync(pwno.Client, "get_context", new { session_id = "chal-a", context_type = "regs" });
        Assert.True(context.IsError != true, Text(context));
        Assert.Contains("not Pwno", Text(context));

        // A cwd outside /workspace is denied with the policy's reason, however it is spelled.
        foreach (var cwd in new[] { "/etc", "/workspace/../etc", "/workspace-old", "tmp" })
        {
            var denied = await CallAsync(pwno.Client, "execute_python_code", new { code = "print('cwd-escape-marker')", cwd, timeout = 5 });
            Assert.True(denied.IsError, cwd);
            Assert.Equal(
                "Call to 'execute_python_code' denied by policy: cwd must be /workspace or a folder under it, written as an absolute path. (rule /tools/execute_python_code/require/0)",
                Text(denied));
        }

        // A timeout that is absent (Pwno would take 300 s), too long, or a string.
        Assert.Contains("/tools/execute_python_code/require/1", Text(await CallAsync(pwno.Client, "execute_python_code", new { code = "print('no-timeout-marker')" })));
        Assert.Contains("/tools/execute_python_code/deny_if/0", Text(await CallAsync(pwno.Client, "execute_python_code", new { code = "print('no-timeout-marker')", timeout = 600 })));
        Assert.Contains("/tools/execute_python_code/require/1", Text(await CallAsync(pwno.Client, "execute_python_code", new { code = "print('no-timeout-marker')", timeout = "600" })));

        // Denied tools: unlisted but refused with a reason (spawn_process), hidden (fetch_repo), not in the policy at all.
        var spawn = await CallAsync(pwno.Client, "spawn_process", new { command = "spawn-marker", cwd = "/workspace" });
        Assert.True(spawn.IsError);
        Assert.Contains("use run_command", Text(spawn));
        Assert.Contains("(rule /tools/spawn_process)", Text(spawn));
        // A hidden tool is answered exactly as a tool the server does not have (SECURITY.md, property 7).
        var hidden = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(pwno.Client, "fetch_repo", new { repo_url = "https://example.com/fetch-marker.git" }));
        var absent = await Assert.ThrowsAsync<McpProtocolException>(() => CallAsync(pwno.Client, "read_flag", new { path = "/flag" }));
        Assert.Equal(absent.Message.Replace("read_flag", "fetch_repo", StringComparison.Ordinal), hidden.Message);
        Assert.Contains("Unknown tool", hidden.Message, StringComparison.Ordinal);

        // An approval-needing tool is held for a person: declined, it never runs; approved, it runs once.
        pwno.Approvals.Approve = false;
        var declined = await CallAsync(pwno.Client, "run_command", new { command = "declined-marker", cwd = "/workspace" });
        Assert.True(declined.IsError);
        Assert.Contains("did not approve", Text(declined));
        Assert.Contains(pwno.Approvals.Asked, m => m.Contains("run_command", StringComparison.Ordinal));

        pwno.Approvals.Approve = true;
        var approved = await CallAsync(pwno.Client, "execute", new { command = "info registers", session_id = "chal-a" });
        Assert.True(approved.IsError != true, Text(approved));
        Assert.Contains("info registers", Text(approved));
        Assert.Equal(2, pwno.Approvals.Asked.Count);

        // What reached the stand-in: exactly the two allowed calls, in order.
        var calls = pwno.Calls();
        Assert.Equal(new[] { "get_context", "execute" }, calls.Select(c => c.Tool));
        var traffic = string.Join("\n", calls.Select(c => c.Arguments));
        foreach (var marker in new[] { "cwd-escape-marker", "no-timeout-marker", "spawn-marker", "fetch-marker", "declined-marker" })
        {
            Assert.DoesNotContain(marker, traffic);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task ExecutePythonCode_TwelveCallsInOneMinute_TenRunThenTwoRateLimited(string shape)
    {
        // The policy says 10 per calendar minute (as the seed does). Twelve calls take well under a second, but they
        // may straddle a minute boundary; then both halves are legitimately admitted in part, so the attempt is
        // repeated with a fresh guard (fresh counters) rather than asserting anything about it. Two straddles in a
        // row are impossible for a sequence this short.
        for (var attempt = 1; ; attempt++)
        {
            await using var pwno = await StartAsync(shape, $"alice-{attempt}");
            var started = DateTimeOffset.UtcNow;
            var results = new List<CallToolResult>();
            for (var i = 1; i <= 12; i++)
            {
                results.Add(await CallAsync(pwno.Client, "execute_python_code", new { code = $"print('run {i}')", cwd = "/workspace", timeout = 30 }));
            }

            var finished = DateTimeOffset.UtcNow;
            if (Minute(started) != Minute(finished))
            {
                Assert.True(attempt < 3, "three attempts in a row straddled a minute boundary");
                output.WriteLine($"attempt {attempt} straddled a minute boundary ({started:HH:mm:ss.fff} to {finished:HH:mm:ss.fff}); repeating");
                continue;
            }

            for (var i = 0; i < results.Count; i++)
            {
                output.WriteLine($"{shape} call {i + 1,2}: {(results[i].IsError == true ? "error" : "ok   ")} {Text(results[i])}");
            }

            for (var i = 0; i < 10; i++)
            {
                Assert.True(results[i].IsError != true, Text(results[i]));
                Assert.Matches(@"^\[PwnoStandIn: a test fixture, not Pwno; nothing was run\] execute_python_code: would run \d+ characters of Python in /workspace with a timeout of 30 s$", Text(results[i]));
            }

            foreach (var limited in results.Skip(10))
            {
                Assert.True(limited.IsError);
                var match = RateLimited().Match(Text(limited));
                Assert.True(match.Success, Text(limited));
                Assert.InRange(long.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture), 1, 60);
            }

            // Exactly the first ten reached the stand-in.
            var calls = pwno.Calls();
            Assert.Equal(Enumerable.Range(1, 10).Select(i => $"print('run {i}')"), calls.Select(c => (string)JsonNode.Parse(c.Arguments)!["code"]!));
            return;
        }
    }

    private static long Minute(DateTimeOffset at) => at.UtcTicks / TimeSpan.TicksPerMinute;

    [GeneratedRegex(@"^Call to 'execute_python_code' rate-limited by policy: execute_python_code runs at most 10 times per minute per grant\. Retry after (?<seconds>\d+) seconds\. \(rule /tools/execute_python_code/limits/0\)$")]
    private static partial Regex RateLimited();
}
