using ModelContextProtocol.Client;
using System.Collections.Concurrent;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>The SDK client against samples/GuardedServer over stdio.</summary>
public sealed class GuardedServerTests
{
    private static Task<McpClient> StartAsync(string identity, Approver approver = Approver.None, string? policy = null, Action<string>? stderr = null, params string[] extra) =>
        // A generous Python time limit unless a test sets its own: python3 starts slowly on a loaded CI machine, and
        // a run that should succeed must not time out. (Later command-line values win over earlier ones.)
        ConnectStdioAsync("GuardedServer", ["--policy", policy ?? Policy("guarded-test.json"), "--identity", identity, "--python-timeout", "60", .. extra], approver, stderr);

    [Fact]
    public async Task ToolsList_HiddenTools_Vanish_AndCallsLookLikeAbsentTools()
    {
        var log = new ConcurrentQueue<string>();
        await using var client = await StartAsync("alice", stderr: log.Enqueue);
        var names = (await client.ListToolsAsync(cancellationToken: Ct)).Select(t => t.Name).ToList();
        Assert.Contains("run_python", names);
        Assert.Contains("echo", names);
        Assert.DoesNotContain("admin_reset", names);

        // admin_reset is hidden (admin_*); xdmin_reset is no tool of the server: the SDK client sees the same answer.
        var hidden = await SdkAnswer.CallAsync(client, "admin_reset");
        Assert.StartsWith("error -32602 ", hidden);
        Assert.Equal(hidden, await SdkAnswer.CallAsync(client, "xdmin_reset"));
        Assert.Contains(log, line => line.Contains("admin_reset", StringComparison.Ordinal) && line.Contains("(hidden)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunPython_LimitPerIdentity_FourthCallRateLimitedWithRetryAfter()
    {
        await using var alice = await StartAsync("alice");
        for (var i = 0; i < 3; i++)
        {
            var ok = await CallAsync(alice, "run_python", new { code = $"print({i} * 7)" });
            Assert.True(ok.IsError != true, Text(ok));
            Assert.Equal((i * 7).ToString(), Text(ok).Trim());
        }

        var limited = await CallAsync(alice, "run_python", new { code = "print('never runs')" });
        Assert.True(limited.IsError);
        Assert.Contains("rate-limited", Text(limited));
        Assert.Contains("at most 3 Python runs", Text(limited));
        Assert.Matches(@"Retry after \d+ seconds", Text(limited));
        Assert.Contains("/tools/run_python/limits/0", Text(limited));

        await using var bob = await StartAsync("bob");
        Assert.True((await CallAsync(bob, "run_python", new { code = "print(1)" })).IsError != true);
    }

    [Fact]
    public async Task RunPython_Timeout_FailsAndGivesQuotaBack()
    {
        // The time limit applies to every run of this server, including the ones below that must succeed: 10 s, not
        // less, because python3 can start slowly on a loaded CI machine. The stuck run sleeps rather than spins, so
        // it does not take a core from the other tests while it waits to be killed.
        await using var client = await StartAsync("carol", extra: ["--python-timeout", "10"]);
        var stuck = await CallAsync(client, "run_python", new { code = "import time\nwhile True: time.sleep(1)" });
        Assert.True(stuck.IsError);
        Assert.Contains("time limit", Text(stuck));

        var failed = await CallAsync(client, "run_python", new { code = "raise SystemExit(3)" });
        Assert.True(failed.IsError);

        // Both failures gave their quota back: all three runs are still available.
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await CallAsync(client, "run_python", new { code = "print('ok')" })).IsError != true);
        }

        Assert.True((await CallAsync(client, "run_python", new { code = "print('ok')" })).IsError);
    }

    [Fact]
    public async Task DeleteNote_ApproverAccepts_CallRuns()
    {
        await using var client = await StartAsync("alice", Approver.Accepts);
        Assert.True((await CallAsync(client, "save_note", new { name = "n1", text = "t" })).IsError != true);
        var deleted = await CallAsync(client, "delete_note", new { name = "n1" });
        Assert.True(deleted.IsError != true, Text(deleted));
        Assert.Equal("deleted 'n1'", Text(deleted));
        Assert.Equal("(no notes)", Text(await CallAsync(client, "list_notes")));
    }

    [Fact]
    public async Task DeleteNote_ApproverDeclines_CallNeverRuns()
    {
        await using var client = await StartAsync("alice", Approver.Declines);
        await CallAsync(client, "save_note", new { name = "keep", text = "t" });
        var refused = await CallAsync(client, "delete_note", new { name = "keep" });
        Assert.True(refused.IsError);
        Assert.Contains("did not approve", Text(refused));
        Assert.Equal("keep", Text(await CallAsync(client, "list_notes")));
    }

    [Fact]
    public async Task DeleteNote_ClientWithoutElicitation_ClearDenial()
    {
        await using var client = await StartAsync("alice");
        await CallAsync(client, "save_note", new { name = "keep", text = "t" });
        var refused = await CallAsync(client, "delete_note", new { name = "keep" });
        Assert.True(refused.IsError);
        Assert.Contains("does not support elicitation", Text(refused));
        Assert.Equal("keep", Text(await CallAsync(client, "list_notes")));
    }

    [Fact]
    public async Task ToolThatAsksForInput_FilterRerun_ChargesOnce()
    {
        // confirm_echo throws InputRequiredException; the SDK asks the client and runs the whole pipeline (this
        // guard included) again. With a limit of 1 the re-run would be rate-limited if the first pass had kept
        // its charge.
        await using var client = await StartAsync("dave", Approver.Accepts);
        var result = await CallAsync(client, "confirm_echo", new { message = "hi" });
        Assert.True(result.IsError != true, Text(result));
        Assert.Equal("confirmed: hi", Text(result));

        var second = await CallAsync(client, "confirm_echo", new { message = "again" });
        Assert.True(second.IsError);
        Assert.Contains("rate-limited", Text(second));
    }

    [Fact]
    public async Task PolicyFile_Edited_ReloadsAndKeepsPolicyOnInvalidEdit()
    {
        var path = CopyPolicy("guarded-test.json");
        var log = new ConcurrentQueue<string>();
        await using var client = await StartAsync("erin", policy: path, stderr: log.Enqueue);
        Assert.True((await CallAsync(client, "echo", new { message = "a" })).IsError != true);

        var text = await File.ReadAllTextAsync(path, Ct);
        await File.WriteAllTextAsync(path, text.Replace("\"echo\": {}", "\"echo\": { \"action\": \"deny\", \"on_deny\": \"echo is switched off\" }"), Ct);
        await Eventually(async () => (await CallAsync(client, "echo", new { message = "b" })).IsError == true);
        Assert.Contains("echo is switched off", Text(await CallAsync(client, "echo", new { message = "c" })));

        await File.WriteAllTextAsync(path, text.Replace("\"echo\": {}", "\"echo\": { \"opp\": 1 }"), Ct);
        await Eventually(() => Task.FromResult(log.Any(l => l.Contains("/tools/echo/opp", StringComparison.Ordinal))));
        Assert.Contains("echo is switched off", Text(await CallAsync(client, "echo", new { message = "d" })));
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 15 seconds");
            await Task.Delay(100, Ct);
        }
    }
}
