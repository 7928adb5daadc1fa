using System.Collections.Concurrent;
using System.Text.Json;
using PolicyEngine.Audit;
using static PolicyEngine.ModelContextProtocol.Tests.Samples;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// The audit trail and shadow mode wired through the hosts: GuardProxy (<c>--audit</c>, <c>--shadow</c>) in front of
/// server-everything, and HttpGateway (<c>PolicyEngine:AuditPath</c>, <c>PolicyEngine:ShadowPolicyPath</c>).
/// </summary>
public sealed class OperationsTests
{
    private static List<JsonElement> Records(string path, string type) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(r => r.GetProperty("type").GetString() == type).ToList();

    /// <summary>Waits until the trail holds <paramref name="count"/> records of <paramref name="type"/> (the writer runs in the background).</summary>
    private static async Task<List<JsonElement>> WaitForAsync(string path, string type, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var records = File.Exists(path) ? Records(path, type) : [];
            if (records.Count >= count || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task GuardProxy_AuditAndShadow_RecordEveryDecision_AndExactlyTheCallsTheCandidateRefuses()
    {
        var server = Environment.GetEnvironmentVariable("PE_SERVER_EVERYTHING");
        Assert.SkipWhen(string.IsNullOrEmpty(server), "PE_SERVER_EVERYTHING is not set (.ci/run installs server-everything and sets it)");
        var directory = Directory.CreateTempSubdirectory("pe-ops-").FullName;
        var audit = Path.Combine(directory, "audit.jsonl");
        var stderr = new ConcurrentQueue<string>();
        var client = await ConnectStdioAsync(
            "GuardProxy",
            ["--policy", Policy("everything.json"), "--identity", "alice", "--audit", audit, "--shadow", Policy("everything-shadow.json"), "--", "node", server!, "stdio"],
            Approver.Accepts,
            stderr.Enqueue);
        await using (client)
        {
            // Outcomes are the enforced policy's; the comments say what the candidate would have done.
            Assert.Equal("Echo: hello", Text(await CallAsync(client, "echo", new { message = "hello" })));                          // both allow
            Assert.Equal("Echo: a message of thirty characters", Text(await CallAsync(client, "echo", new { message = "a message of thirty characters" }))); // candidate: deny
            Assert.Contains("3", Text(await CallAsync(client, "get-sum", new { a = 1, b = 2 })));                                   // both allow
            Assert.Contains("7", Text(await CallAsync(client, "get-sum", new { a = 3, b = 4 })));                                   // candidate: rate-limited
            Assert.Contains("rate-limited", Text(await CallAsync(client, "get-sum", new { a = 5, b = 6 })));                         // both rate-limited
            Assert.True((await CallAsync(client, "get-tiny-image")).IsError != true);                                              // candidate: default deny
            Assert.Equal("Echo: approve: ok", Text(await CallAsync(client, "echo", new { message = "approve: ok" })));              // both ask; approved on both sides
            Assert.Contains("(default deny)", Text(await CallAsync(client, "get-annotated-message", new { messageType = "error" }))); // both deny
        }

        var shadow = await WaitForAsync(audit, "shadow", 3);
        Assert.Equal(
            [("echo", "allow->deny", "/tools/echo/deny_if/1"), ("get-sum", "allow->rate_limited", "/tools/get-sum/limits/0"), ("get-tiny-image", "allow->deny", "(default deny)")],
            shadow.Select(r => (r.GetProperty("tool").GetString(), r.GetProperty("kinds").GetString(), r.GetProperty("candidate_rule").GetString())));
        Assert.Contains(stderr, l => l.Contains("shadow disagreement: get-sum for alice: allow->rate_limited", StringComparison.Ordinal));

        var decisions = await WaitForAsync(audit, "decision", 9);
        Assert.Equal(
            ["allow", "allow", "allow", "allow", "rate_limited", "allow", "needs_approval", "allow", "deny"],
            decisions.Select(r => r.GetProperty("kind").GetString()));
        Assert.All(decisions, r => Assert.Equal("alice", r.GetProperty("identity").GetString()));
        Assert.Equal(["requested", "approved"], (await WaitForAsync(audit, "approval", 2)).Select(r => r.GetProperty("outcome").GetString()));
        Assert.Equal(["enforced", "shadow"], Records(audit, "policy").Select(r => r.GetProperty("role").GetString()));
        Assert.DoesNotContain("thirty characters", File.ReadAllText(audit));

        var verification = AuditVerifier.Verify([audit]);
        Assert.True(verification.IsIntact, verification.FirstBreak?.Message);

        // An edited line is caught.
        var lines = File.ReadAllLines(audit);
        var index = Array.FindIndex(lines, l => l.Contains("\"kind\":\"rate_limited\"", StringComparison.Ordinal));
        lines[index] = lines[index].Replace("\"kind\":\"rate_limited\"", "\"kind\":\"allow\"", StringComparison.Ordinal);
        File.WriteAllLines(audit, lines);
        var broken = AuditVerifier.Verify([audit]);
        Assert.Equal(index + 1, broken.FirstBreak!.Line);
        Assert.Contains("edited", broken.FirstBreak.Message);
    }

    [Fact]
    public async Task HttpGateway_AuditPathAndShadow_RecordGrantsApprovalsAndDisagreements()
    {
        var directory = Directory.CreateTempSubdirectory("pe-ops-").FullName;
        var audit = Path.Combine(directory, "audit.jsonl");
        var candidate = Path.Combine(directory, "candidate.json");
        File.WriteAllText(candidate, File.ReadAllText(Path.Combine(Path.GetDirectoryName(Dll("HttpGateway"))!, "policy.json"))
            .Replace("\"max\": 3,", "\"max\": 1,", StringComparison.Ordinal));
        await using var gateway = new GatewayFixture
        {
            Arguments = ["--PolicyEngine:AuditPath", audit, "--PolicyEngine:ShadowPolicyPath", candidate],
        };
        await gateway.InitializeAsync();

        await using (var alice = await gateway.ConnectAsync("alice-token", Approver.Accepts))
        {
            Assert.Contains("exported", Text(await CallAsync(alice, "export_report", new { name = "q3" })));
            Assert.Contains("Paris", Text(await CallAsync(alice, "get_forecast", new { city = "Paris" })));
            Assert.Contains("Rome", Text(await CallAsync(alice, "get_forecast", new { city = "Rome" })));
        }

        await using (var bob = await gateway.ConnectAsync("bob-token"))
        {
            Assert.Contains("only analysts", Text(await CallAsync(bob, "export_report", new { name = "q3" })));
        }

        var decisions = await WaitForAsync(audit, "decision", 5);
        Assert.Equal(
            [("alice", "export_report", "needs_approval"), ("alice", "export_report", "allow"), ("alice", "get_forecast", "allow"), ("alice", "get_forecast", "allow"), ("bob", "export_report", "deny")],
            decisions.Select(r => (r.GetProperty("identity").GetString(), r.GetProperty("tool").GetString(), r.GetProperty("kind").GetString())));
        Assert.Equal(["requested", "approved"], (await WaitForAsync(audit, "approval", 2)).Select(r => r.GetProperty("outcome").GetString()));
        var disagreement = Assert.Single(await WaitForAsync(audit, "shadow", 1));
        Assert.Equal(("get_forecast", "allow->rate_limited"), (disagreement.GetProperty("tool").GetString(), disagreement.GetProperty("kinds").GetString()));
        Assert.True(AuditVerifier.Verify([audit]).IsIntact);
    }
}
