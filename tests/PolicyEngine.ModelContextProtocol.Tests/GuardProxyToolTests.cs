using System.Collections.Concurrent;
using System.Diagnostics;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// The policyengine-proxy tool's command line and start-up: help and version, a clear error for a missing upstream
/// command, an invalid policy reported once, no warnings for methods the upstream lacks, and roots offered to the
/// upstream only when the client offers them.
/// </summary>
public sealed class GuardProxyToolTests
{
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll("GuardProxy"));
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Help_And_Version()
    {
        var help = await RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("policyengine-proxy", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--policy <FILE>", help.Stdout, StringComparison.Ordinal);

        var version = await RunAsync("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Stdout);
    }

    [Theory]
    [InlineData("--policy", "p.json")]
    [InlineData("--policy", "p.json", "node", "server.js")]
    [InlineData("--policy", "p.json", "--no-such-option", "--", "node")]
    [InlineData("--", "node")]
    public async Task UsageErrors_ExitTwo(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal((2, ""), (code, stdout));
        Assert.Contains("Run 'policyengine-proxy --help' for usage.", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingUpstreamCommand_NamedClearly_ExitOne()
    {
        var (code, _, stderr) = await RunAsync("--policy", Policy("everything.json"), "--", "no-such-mcp-server-xyz", "--flag");

        Assert.Equal(1, code);
        Assert.Contains("cannot start the upstream server: 'no-such-mcp-server-xyz' was not found on PATH", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to connect transport", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidPolicy_ReportedOnce_ExitOne()
    {
        var path = CopyPolicy("everything.json");
        File.WriteAllText(path, """{ "version": "2", "default": "maybe" }""");

        var (code, _, stderr) = await RunAsync("--policy", path, "--", "node", "--version");

        Assert.Equal(1, code);
        Assert.Equal(1, CountOf(stderr, "/default"));
        Assert.Contains("is invalid (1 problem)", stderr, StringComparison.Ordinal);
    }

    private static int CountOf(string text, string part)
    {
        var count = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Roots_OfferedUpstreamOnlyWhenTheClientOffersThem_NoWarningForMissingMethods(bool clientOffersRoots)
    {
        var server = Environment.GetEnvironmentVariable("PE_SERVER_EVERYTHING");
        Assert.SkipWhen(string.IsNullOrEmpty(server), "PE_SERVER_EVERYTHING is not set (.ci/run installs server-everything and sets it)");
        var log = Path.Combine(Directory.CreateTempSubdirectory("pe-proxy-").FullName, "upstream.jsonl");
        var stderr = new ConcurrentQueue<string>();
        var rootsAsked = 0;
        var options = new McpClientOptions { ClientInfo = new Implementation { Name = "roots-test", Version = "1" }, DiscoverProbeTimeout = TimeSpan.FromSeconds(30) };
        if (clientOffersRoots)
        {
            options.Capabilities = new ClientCapabilities { Roots = new RootsCapability() };
            options.Handlers = new McpClientHandlers
            {
                RootsHandler = (_, _) =>
                {
                    Interlocked.Increment(ref rootsAsked);
                    return ValueTask.FromResult(new ListRootsResult { Roots = [new Root { Uri = "file:///workspace", Name = "workspace" }] });
                },
            };
        }

        await using (var client = await McpClient.CreateAsync(
            new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "proxy",
                Command = "dotnet",
                Arguments = [Dll("GuardProxy"), "--policy", Policy("everything.json"), "--identity", "alice", "--", "sh", "-c", "tee -a \"$0\" | exec node \"$1\" stdio", log, server!],
                StandardErrorLines = stderr.Enqueue,
            }),
            options,
            cancellationToken: Ct))
        {
            Assert.Equal("Echo: hi", Text(await CallAsync(client, "echo", new { message = "hi" })));
        }

        var initialize = File.ReadLines(log).First(l => l.Contains("\"initialize\"", StringComparison.Ordinal) || l.Contains("server/discover", StringComparison.Ordinal));
        var sentUpstream = File.ReadAllText(log);
        Assert.Equal(clientOffersRoots, sentUpstream.Contains("\"roots\"", StringComparison.Ordinal));
        if (!clientOffersRoots)
        {
            Assert.Equal(0, rootsAsked);
        }

        // The SDK client tries server/discover first; the upstream lacks it. That is no warning of ours.
        Assert.False(
            stderr.Any(line => line.Contains("server/discover", StringComparison.Ordinal) || line.Contains("Method not found", StringComparison.Ordinal)),
            string.Join('\n', stderr));
        Assert.NotNull(initialize);
    }
}
