using System.Diagnostics;
using System.Reflection;
using System.Text;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// The official TypeScript MCP SDK client against the three samples (<c>tests/interop-ts</c>). It needs <c>node</c>,
/// <c>npm ci --prefix tests/interop-ts</c> and <c>PE_SERVER_EVERYTHING</c>. Without them it skips — unless
/// <c>PE_TS_INTEROP=1</c> (set by <c>.ci/run</c>), when a missing piece fails the test.
/// </summary>
public sealed class TypeScriptInteropTests
{
    private static readonly string Directory = typeof(TypeScriptInteropTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "InteropTsDirectory").Value!;

    [Fact]
    public async Task TypeScriptSdkClient_InteroperatesWithTheSamples()
    {
        var required = Environment.GetEnvironmentVariable("PE_TS_INTEROP") == "1";
        var missing = new List<string>();
        var node = FindOnPath("node");
        if (node is null)
        {
            missing.Add("node is not on PATH");
        }

        if (!File.Exists(Path.Combine(Directory, "node_modules", "@modelcontextprotocol", "sdk", "package.json")))
        {
            missing.Add($"the TypeScript SDK is not installed (run: npm ci --prefix {Directory})");
        }

        var everything = Environment.GetEnvironmentVariable("PE_SERVER_EVERYTHING");
        if (string.IsNullOrEmpty(everything))
        {
            missing.Add("PE_SERVER_EVERYTHING is not set (.ci/run installs server-everything and sets it)");
        }

        if (missing.Count > 0)
        {
            var why = string.Join("; ", missing);
            Assert.False(required, $"PE_TS_INTEROP=1 but the TypeScript interop check cannot run: {why}");
            Assert.Skip(why);
        }

        var start = new ProcessStartInfo(node!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        start.ArgumentList.Add(Path.Combine(Directory, "interop.mjs"));
        start.Environment["PE_GUARDPROXY_DLL"] = Dll("GuardProxy");
        start.Environment["PE_GUARDEDSERVER_DLL"] = Dll("GuardedServer");
        start.Environment["PE_HTTPGATEWAY_DLL"] = Dll("HttpGateway");
        start.Environment["PE_SERVER_EVERYTHING"] = everything;

        var output = new StringBuilder();
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine("stderr: " + e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            Assert.Fail("the TypeScript interop check did not finish within 4 minutes:\n" + output);
        }

        process.WaitForExit(); // drain the redirected output
        string text;
        lock (output)
        {
            text = output.ToString();
        }

        Assert.True(process.ExitCode == 0, $"the TypeScript SDK client found interop problems (exit {process.ExitCode}):\n{text}");
        Assert.Contains(" passed, 0 failed", text);
    }

    private static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
