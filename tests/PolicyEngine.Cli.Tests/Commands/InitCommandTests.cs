using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using PolicyEngine.Intercept;

namespace PolicyEngine.Cli.Tests.Commands;

/// <summary>
/// <c>policyengine init</c>: the classification (from a saved tools list), then live servers: an in-process streamable
/// HTTP server (paged tools/list, a required header), and the third-party reference servers server-everything and
/// server-filesystem over stdio. <c>.ci/run</c> installs both and sets <c>PE_SERVER_EVERYTHING</c> and
/// <c>PE_SERVER_FILESYSTEM</c>; without a variable its test skips, and with it set but the server missing it fails.
/// </summary>
public sealed class InitCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Tools = """
        { "tools": [
          { "name": "read_notes", "description": "Reads notes", "inputSchema": { "type": "object" }, "annotations": { "readOnlyHint": true, "openWorldHint": false } },
          { "name": "delete_note", "description": "Deletes a note", "inputSchema": { "type": "object" }, "annotations": { "readOnlyHint": false, "destructiveHint": true } },
          { "name": "fetch_url", "description": "Fetches a web page", "inputSchema": { "type": "object" }, "annotations": { "readOnlyHint": true, "openWorldHint": true } },
          { "name": "toggle_flag", "description": "Flips a flag", "inputSchema": { "type": "object" }, "annotations": { "readOnlyHint": false, "destructiveHint": false } },
          { "name": "update_note", "description": "Edits a note", "inputSchema": { "type": "object" }, "annotations": { "readOnlyHint": false } },
          { "name": "execute_python_code", "description": "Runs Python source", "inputSchema": { "type": "object" } },
          { "name": "list_sessions", "description": "Lists sessions", "inputSchema": { "type": "object" } },
          { "name": "kill_process", "description": "Stops a process; may run a shell", "inputSchema": { "type": "object" } },
          { "name": "bad*name", "inputSchema": { "type": "object" } },
          { "name": "read_notes", "description": "listed twice", "inputSchema": { "type": "object" } }
        ] }
        """;

    private static async Task<(int Code, PolicyDocument? Document, string Text, string Stderr)> InitAsync(params string[] args)
    {
        var (code, stdout, stderr) = await CliRunner.RunAsync("", ["init", .. args]);
        var document = code == 0 && !args.Contains("intercept") ? PolicyDocument.Parse(stdout) : null;
        return (code, document, stdout, stderr);
    }

    private static ToolPolicy Entry(PolicyDocument document, string name) => Assert.Single(document.Tools, t => t.Name == name);

    private static Decision Call(PolicyEvaluator evaluator, string tool) =>
        evaluator.Evaluate(new PolicyIdentity("alice"), tool, JsonDocument.Parse("{}").RootElement);

    [Fact]
    public async Task Init_FromSavedTools_ClassifiesEachTool_AndExplainsIt()
    {
        var (code, document, _, stderr) = await InitAsync("--from-tools", CliRunner.TempFile(Tools));

        Assert.Equal(0, code);
        Assert.Equal("2", document!.Version);
        Assert.Equal(DefaultAction.Deny, document.Default);
        Assert.Contains("(8 tools)", document.Description);
        Assert.Equal(
            ["read_notes", "delete_note", "fetch_url", "toggle_flag", "update_note", "execute_python_code", "list_sessions", "kill_process"],
            document.Tools.Select(t => t.Name));
        Assert.All(document.Tools, t => Assert.False(string.IsNullOrEmpty(t.Description)));
        Assert.Contains("bad*name", stderr);

        // read-only: allowed, nothing else
        var read = Entry(document, "read_notes");
        Assert.Null(read.Approval);
        Assert.Null(read.Limits);
        Assert.Contains("read-only", read.Description);

        // destructive, or not said to be harmless: approval
        Assert.NotNull(Entry(document, "delete_note").Approval);
        Assert.Contains("destructiveHint", Entry(document, "delete_note").Description);
        Assert.NotNull(Entry(document, "update_note").Approval);

        // open-world: 10 per minute per grant
        var fetch = Entry(document, "fetch_url");
        Assert.Null(fetch.Approval);
        var limit = Assert.Single(fetch.Limits!);
        Assert.Equal((10L, "grant", TimeSpan.FromMinutes(1)), (limit.Max, limit.Scope, limit.Window));

        // annotated non-destructive: allowed
        Assert.Null(Entry(document, "toggle_flag").Approval);
        Assert.Null(Entry(document, "toggle_flag").Limits);

        // no annotations: code-running words give a limit only (PolicyLayer's execute_python_code); others need approval
        var python = Entry(document, "execute_python_code");
        Assert.Null(python.Approval);
        Assert.Equal(10, Assert.Single(python.Limits!).Max);
        Assert.Contains("\"execute\", \"python\"", python.Description);
        Assert.NotNull(Entry(document, "list_sessions").Approval);
        Assert.Null(Entry(document, "list_sessions").Limits);
        var kill = Entry(document, "kill_process");
        Assert.NotNull(kill.Approval);
        Assert.NotNull(kill.Limits);

        // The policy does what the descriptions say.
        var evaluator = new PolicyEvaluator(Policy.Compile(document));
        Assert.True(Call(evaluator, "read_notes").IsAllowed);
        Assert.Equal(DecisionKind.NeedsApproval, Call(evaluator, "delete_note").Kind);
        Assert.Equal(DecisionKind.Deny, Call(evaluator, "bad*name").Kind);
        var kinds = Enumerable.Range(0, 11).Select(_ => Call(evaluator, "execute_python_code").Kind).ToList();
        Assert.Equal(10, kinds.Count(k => k == DecisionKind.Allow));
        Assert.Equal(DecisionKind.RateLimited, kinds[^1]);
    }

    [Fact]
    public async Task Init_InterceptFormat_ImportsAndDeniesWhatNeedsApproval()
    {
        var (code, _, yaml, _) = await InitAsync("--from-tools", CliRunner.TempFile(Tools), "--format", "intercept");

        Assert.Equal(0, code);
        Assert.Contains("Intercept has no approvals", yaml);
        var document = InterceptPolicy.Import(yaml, new InterceptImportOptions { PerIdentityCounters = true }).Document;
        var evaluator = new PolicyEvaluator(Policy.Compile(document));
        Assert.True(Call(evaluator, "read_notes").IsAllowed);
        Assert.Equal(DecisionKind.Deny, Call(evaluator, "delete_note").Kind);
        Assert.Equal(DecisionKind.Deny, Call(evaluator, "not_listed").Kind);
        var kinds = Enumerable.Range(0, 11).Select(_ => Call(evaluator, "fetch_url").Kind).ToList();
        Assert.Equal(DecisionKind.RateLimited, kinds[^1]);
    }

    [Theory]
    [InlineData(new string[0], "exactly one server")]
    [InlineData(new[] { "--url", "http://127.0.0.1:1/mcp", "--from-tools", "x.json" }, "exactly one server")]
    [InlineData(new[] { "--format", "yaml", "--from-tools", "x.json" }, "unknown format")]
    [InlineData(new[] { "--from-tools", "/no/such/tools.json" }, "cannot read")]
    [InlineData(new[] { "--url", "ftp://example.com/mcp" }, "http or https")]
    [InlineData(new[] { "--", "/no/such/server-binary" }, "cannot list the tools")]
    public async Task Init_UsageErrorsAndUnreachableServers_ExitTwo(string[] args, string message)
    {
        var (code, _, _, stderr) = await InitAsync(args);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Init_StreamableHttp_ReadsEveryPage_AndSendsTheHeader()
    {
        var port = FreePort();
        var pages = 0;
        string?[] seenAuthorization = new string?[1];
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddMcpServer().WithHttpTransport(o => o.Stateless = true).WithListToolsHandler((context, _) =>
        {
            // Five tools, two per page.
            Interlocked.Increment(ref pages);
            var start = context.Params?.Cursor is { } cursor ? int.Parse(cursor, System.Globalization.CultureInfo.InvariantCulture) : 0;
            var tools = Enumerable.Range(start, Math.Min(2, 5 - start)).Select(i => new Tool
            {
                Name = $"tool_{i}",
                Description = i == 4 ? "Deletes everything" : "Reads a thing",
                InputSchema = JsonDocument.Parse("""{"type":"object"}""").RootElement,
                Annotations = new ToolAnnotations { ReadOnlyHint = i != 4, DestructiveHint = i == 4 },
            }).ToList();
            return ValueTask.FromResult(new ListToolsResult { Tools = tools, NextCursor = start + 2 < 5 ? (start + 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null });
        });
        await using var app = builder.Build();
        app.Use(async (HttpContext context, Func<Task> next) =>
        {
            seenAuthorization[0] = context.Request.Headers.Authorization;
            if (context.Request.Headers.Authorization != "Bearer sesame")
            {
                context.Response.StatusCode = 401;
                return;
            }

            await next();
        });
        app.MapMcp("/mcp");
        await app.StartAsync(Ct);

        var save = Path.Combine(Directory.CreateTempSubdirectory("pe-init-").FullName, "tools.json");
        var (code, document, _, stderr) = await InitAsync("--url", $"http://127.0.0.1:{port}/mcp", "--header", "Authorization: Bearer sesame", "--save-tools", save);

        Assert.True(code == 0, stderr);
        Assert.Equal(["tool_0", "tool_1", "tool_2", "tool_3", "tool_4"], document!.Tools.Select(t => t.Name));
        Assert.NotNull(Entry(document, "tool_4").Approval);
        Assert.True(pages >= 3);
        Assert.Equal("Bearer sesame", seenAuthorization[0]);
        Assert.Equal(5, LintCommand.ReadToolNames(File.ReadAllBytes(save)).Count);

        var (refused, _, _, why) = await InitAsync("--url", $"http://127.0.0.1:{port}/mcp");
        Assert.Equal(2, refused);
        Assert.Contains("cannot list the tools", why);
    }

    [Fact]
    public async Task Init_ServerEverything_EveryToolListed_OutputValidates()
    {
        var server = Server("PE_SERVER_EVERYTHING");
        var directory = Directory.CreateTempSubdirectory("pe-init-").FullName;
        var policy = Path.Combine(directory, "policy.json");
        var tools = Path.Combine(directory, "tools.json");

        var (code, stdout, stderr) = await CliRunner.RunAsync("", "init", "--out", policy, "--save-tools", tools, "--", "node", server, "stdio");

        Assert.True(code == 0, stderr);
        Assert.Equal("", stdout);
        Assert.Equal(0, (await CliRunner.RunAsync("", "validate", policy)).ExitCode);
        var document = PolicyDocument.Load(policy);
        var names = LintCommand.ReadToolNames(File.ReadAllBytes(tools));
        Assert.Equal(names, document.Tools.Select(t => t.Name));
        Assert.Contains("echo", names);
        Assert.Contains("get-sum", names);
        Assert.Contains("mcp-servers/everything", document.Description);

        // echo is annotated read-only; gzip-file-as-resource open-world (10 a minute).
        Assert.Null(Entry(document, "echo").Approval);
        Assert.Null(Entry(document, "echo").Limits);
        Assert.Equal(10, Assert.Single(Entry(document, "gzip-file-as-resource").Limits!).Max);

        // The starter policy lints clean against the server's own list.
        var (lintCode, lintOut, _) = await CliRunner.RunAsync("", "lint", policy, "--tools", tools);
        Assert.Equal(0, lintCode);
        Assert.Equal("", lintOut);
    }

    [Fact]
    public async Task Init_ServerFilesystem_DestructiveToolsNeedApproval()
    {
        var server = Server("PE_SERVER_FILESYSTEM");
        var root = Directory.CreateTempSubdirectory("pe-fsroot-").FullName;

        var (code, document, _, stderr) = await InitAsync("--", "node", server, root);

        Assert.True(code == 0, stderr);
        foreach (var write in new[] { "write_file", "edit_file", "move_file" })
        {
            Assert.NotNull(Entry(document!, write).Approval);
            Assert.Contains("destructiveHint", Entry(document!, write).Description);
        }

        foreach (var read in new[] { "read_text_file", "list_directory", "search_files" })
        {
            Assert.Null(Entry(document!, read).Approval);
            Assert.Null(Entry(document!, read).Limits);
        }
    }

    /// <summary>The server's entry script from the environment: skip when unset (a local run), fail when set but missing.</summary>
    private static string Server(string variable)
    {
        var path = Environment.GetEnvironmentVariable(variable);
        Assert.SkipWhen(string.IsNullOrEmpty(path), $"{variable} is not set (.ci/run installs the server and sets it)");
        Assert.True(File.Exists(path), $"{variable} is set to '{path}', which does not exist: the server is missing");
        return path!;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
