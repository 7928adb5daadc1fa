using System.IO.Pipelines;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// Defaults that cannot bite: a missing registration and wrong options stop the host when it starts, a relative
/// policy path means the content root, the policy file is watched through change tokens (an atomic swap reloads
/// it), and tools/list leaves out the tools a caller can never be allowed.
/// </summary>
public sealed class AdapterDefaultsTests
{
    private const string Policy = """{ "version": "2", "default": "deny", "tools": { "echo": {} } }""";

    private static HostApplicationBuilder Builder(string? contentRoot = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = contentRoot });
        builder.Services.AddMcpServer().WithStreamServerTransport(new Pipe().Reader.AsStream(), new Pipe().Writer.AsStream()).WithTools<ProbeTools>();
        return builder;
    }

    private static string TempDirectoryWithPolicy(string json = Policy)
    {
        var directory = Directory.CreateTempSubdirectory("pe-defaults-").FullName;
        File.WriteAllText(Path.Combine(directory, "policy.json"), json);
        return directory;
    }

    [Fact]
    public async Task WithPolicyEngine_WithoutAddPolicyEngine_FailsAtStart()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddMcpServer().WithStreamServerTransport(new Pipe().Reader.AsStream(), new Pipe().Writer.AsStream()).WithTools<ProbeTools>().WithPolicyEngine();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<PolicyGuardException>(() => host.StartAsync(Ct));

        Assert.Contains("AddPolicyEngine", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Options_AreValidatedAtStart_EveryProblemListed()
    {
        var builder = Builder();
        builder.Services.AddPolicyEngine(o =>
        {
            o.Identity = "";
            o.ElicitationTimeout = TimeSpan.Zero;
            o.MaxArgumentsBytes = -1;
            o.Format = "toml";
        });
        builder.Services.AddMcpServer().WithPolicyEngine();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct));

        var failures = error.Failures.ToList();
        Assert.Equal(5, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.PolicyPath is required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.Format 'toml' is unknown", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.Identity must not be empty", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.ElicitationTimeout must be positive", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.MaxArgumentsBytes must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public void GuardConstructedDirectly_ListsEveryProblemToo()
    {
        var error = Assert.Throws<PolicyGuardException>(() => new PolicyGuard(new PolicyEngineMcpOptions { ReloadDebounce = TimeSpan.FromSeconds(-1), StoreTimeout = TimeSpan.Zero }));

        Assert.Contains("(3 problems)", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyEngineMcpOptions.PolicyPath is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyEngineMcpOptions.ReloadDebounce must not be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyEngineMcpOptions.StoreTimeout must be positive", error.Message, StringComparison.Ordinal);
        var inner = Assert.IsType<ArgumentException>(error.InnerException);
        Assert.Equal("options", inner.ParamName);
        Assert.StartsWith("options are not valid: PolicyEngineMcpOptions.PolicyPath is required", inner.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidPolicy_StopsTheHostWithEveryProblemInOneMessage()
    {
        var directory = TempDirectoryWithPolicy("""{ "version": "2", "default": "maybe", "tools": { "x": { "opp": 1 } } }""");
        var builder = Builder(directory);
        builder.Services.AddPolicyEngine(o => o.PolicyPath = "policy.json");
        builder.Services.AddMcpServer().WithPolicyEngine();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<PolicyGuardException>(() => host.StartAsync(Ct));

        Assert.Contains("(2 problems)", error.Message, StringComparison.Ordinal);
        Assert.Contains("/default: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("/tools/x/opp: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RelativePolicyPath_IsResolvedAgainstTheContentRoot_NotTheWorkingDirectory()
    {
        var directory = TempDirectoryWithPolicy();
        Assert.NotEqual(Path.GetFullPath(directory), Path.GetFullPath(Environment.CurrentDirectory));
        var builder = Builder(directory);
        builder.Services.AddPolicyEngine(o => o.PolicyPath = "policy.json");
        builder.Services.AddMcpServer().WithPolicyEngine();
        using var host = builder.Build();

        await host.StartAsync(Ct);
        try
        {
            Assert.Equal(Path.Combine(directory, "policy.json"), host.Services.GetRequiredService<PolicyGuard>().PolicyPath);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task PolicyFile_SwappedAtomically_IsReloaded()
    {
        var directory = TempDirectoryWithPolicy();
        var path = Path.Combine(directory, "policy.json");
        using var guard = new PolicyGuard(new PolicyEngineMcpOptions { PolicyPath = path, ReloadDebounce = TimeSpan.FromMilliseconds(50) });
        var first = guard.Evaluator.Policy.Version;

        // As deployment tools and Kubernetes do: write a new file beside it, then rename it over the old one.
        var staged = Path.Combine(directory, "policy.json.tmp");
        File.WriteAllText(staged, """{ "version": "2", "default": "deny", "tools": { "echo": {}, "list_notes": {} } }""");
        File.Move(staged, path, overwrite: true);
        var second = await WaitForVersionChangeAsync(guard, first);
        Assert.True(guard.Evaluator.Evaluate(new PolicyIdentity("a"), "list_notes", default(System.Text.Json.JsonElement)).IsAllowed);

        // And an edit in place.
        File.WriteAllText(path, Policy);
        await WaitForVersionChangeAsync(guard, second);
        Assert.False(guard.Evaluator.Evaluate(new PolicyIdentity("a"), "list_notes", default(System.Text.Json.JsonElement)).IsAllowed);
    }

    private static async Task<string> WaitForVersionChangeAsync(PolicyGuard guard, string version)
    {
        for (var i = 0; i < 200 && guard.Evaluator.Policy.Version == version; i++)
        {
            await Task.Delay(50, Ct);
        }

        Assert.NotEqual(version, guard.Evaluator.Policy.Version);
        return guard.Evaluator.Policy.Version;
    }

    [Theory]
    [InlineData(true, new[] { "echo" })]
    [InlineData(false, new[] { "admin_reset", "echo", "list_notes" })]
    public async Task ToolsList_LeavesOutToolsNeverAllowed_UnlessTurnedOff(bool hideNeverAllowed, string[] expected)
    {
        // echo is allowed, list_notes is "action": "deny", admin_reset is not listed under default deny and hidden
        // from no one: only hiding makes a tool look absent, so list_notes and admin_reset still explain their denial.
        const string policy = """{ "version": "2", "default": "deny", "tools": { "echo": {}, "list_notes": { "action": "deny", "on_deny": "notes are off" } } }""";
        var toServer = new Pipe();
        var toClient = new Pipe();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddMcpServer()
            .WithStreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream())
            .WithTools<ProbeTools>()
            .WithPolicyEngine(o =>
            {
                o.Policy = global::PolicyEngine.Policy.Parse(policy);
                o.HideNeverAllowedTools = hideNeverAllowed;
            });
        var host = builder.Build();
        await host.StartAsync(Ct);
        await using var client = await RawMcp.OverStreamsAsync(toServer.Writer.AsStream(), toClient.Reader.AsStream(), new Stopper(host, toServer, toClient));

        Assert.Equal(expected, (await client.ListToolNamesAsync()).Order().ToArray());
        var denied = await client.CallToolAsync("list_notes");
        Assert.Contains("notes are off", denied["result"]?["content"]?[0]?["text"]?.GetValue<string>(), StringComparison.Ordinal);
        var unlisted = await client.CallToolAsync("admin_reset");
        Assert.Equal(
            "Call to 'admin_reset' denied by policy: this tool is not allowed by the policy (default deny).",
            unlisted["result"]?["content"]?[0]?["text"]?.GetValue<string>());
    }

    private sealed class Stopper(IHost host, Pipe toServer, Pipe toClient) : IAsyncDisposable
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
