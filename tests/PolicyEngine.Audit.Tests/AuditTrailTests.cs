using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Audit.Tests;

public sealed class AuditTrailTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string PolicyJson = """
        { "version": "2", "default": "deny", "hide": ["secret_tool"], "tools": {
            "echo": { "deny_if": [ { "path": "args.message", "op": "contains", "value": "secret", "on_deny": "no secrets" } ] },
            "sum": { "limits": [ { "counter": "sums", "window": "minute", "max": 2, "scope": "grant" } ] },
            "delete": { "approval": { "reason": "deletes data" } } } }
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static string NewDirectory() => Directory.CreateTempSubdirectory("pe-audit-").FullName;

    private static JsonElement Args(string json) => JsonDocument.Parse(json).RootElement.Clone();

    /// <summary>Writes a small trail of every record type through an evaluator and returns the file.</summary>
    internal static async Task<string> WriteTrailAsync(string directory, int sums = 3, AuditTrailOptions? options = null)
    {
        var time = new FakeTimeProvider(Start);
        var path = Path.Combine(directory, "audit.jsonl");
        await using var trail = AuditTrail.ToFile(path, options, time);
        var evaluator = new PolicyEvaluator(Policy.Parse(PolicyJson), timeProvider: time);
        using var _ = trail.Attach(evaluator);
        var alice = new PolicyIdentity("alice");
        trail.RecordPolicy("enforced", "policy.json", "loaded", evaluator.Policy.Version);
        evaluator.Evaluate(alice, "echo", Args("""{"message":"hello"}"""));
        evaluator.Evaluate(alice, "echo", Args("""{"message":"my secret sauce"}"""));
        for (var i = 0; i < sums; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            evaluator.Evaluate(alice, "sum", Args("""{"a":1,"b":2}"""));
        }

        evaluator.Evaluate(alice, "secret_tool", Args("{}"));
        var pending = evaluator.Evaluate(alice, "delete", Args("""{"id":7}"""));
        trail.RecordApproval(pending.Approval!, "requested");
        trail.RecordApproval(pending.Approval!, "approved");
        return path;
    }

    internal static string[] ReadLines(string path) => File.ReadAllText(path).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static void WriteLines(string path, IEnumerable<string> lines) => File.WriteAllText(path, string.Join("\n", lines) + "\n");

    [Fact]
    public async Task Trail_RecordsEveryDecisionAndTransition_WithoutArgumentValues_AndVerifies()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path);
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal(["open", "policy", "decision", "decision", "decision", "decision", "decision", "decision", "decision", "approval", "approval"],
            records.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(1, lines.Length).Select(i => (long)i), records.Select(r => r.GetProperty("seq").GetInt64()));
        var denied = records[3];
        Assert.Equal("deny", denied.GetProperty("kind").GetString());
        Assert.Equal("/tools/echo/deny_if/0", denied.GetProperty("rule").GetString());
        Assert.Equal("no secrets", denied.GetProperty("reason").GetString());
        Assert.Equal(["message"], denied.GetProperty("arg_names").EnumerateArray().Select(e => e.GetString()));
        Assert.Matches("^[0-9a-f]{64}$", denied.GetProperty("args_sha256").GetString());
        Assert.Equal("rate_limited", records[6].GetProperty("kind").GetString());
        Assert.True(records[6].GetProperty("retry_after_ms").GetInt64() > 0);
        Assert.Equal("(hidden)", records[7].GetProperty("rule").GetString());
        Assert.Equal("needs_approval", records[8].GetProperty("kind").GetString());
        Assert.Equal(records[8].GetProperty("approval_id").GetString(), records[9].GetProperty("approval_id").GetString());
        Assert.Equal("approved", records[10].GetProperty("outcome").GetString());

        // Never an argument value.
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("secret sauce", text);
        Assert.DoesNotContain("hello", text);

        var result = AuditVerifier.Verify([path]);
        Assert.True(result.IsIntact, result.FirstBreak?.Message);
        Assert.Equal(lines.Length, result.Records);
        Assert.Equal(JsonDocument.Parse(lines[^1]).RootElement.GetProperty("hash").GetString(), result.LastHash);
    }

    [Fact]
    public async Task Verify_EditedRecord_IsNamed()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path);
        lines[3] = lines[3].Replace("\"kind\":\"deny\"", "\"kind\":\"allow\"", StringComparison.Ordinal);
        WriteLines(path, lines);

        var result = AuditVerifier.Verify([path]);

        Assert.False(result.IsIntact);
        Assert.Equal(4, result.FirstBreak!.Line);
        Assert.Equal(4, result.FirstBreak.Seq);
        Assert.Contains("edited", result.FirstBreak.Message);
        Assert.Equal(3, result.Records);
    }

    [Fact]
    public async Task Verify_EditedRecordWithItsHashRecomputed_BreaksAtTheNextRecord()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path);

        // A forger who knows the format re-seals the edited record; the next record's prev still names the old hash.
        var edited = lines[3].Replace("\"kind\":\"deny\"", "\"kind\":\"allow\"", StringComparison.Ordinal);
        var body = Encoding.UTF8.GetBytes(edited[..edited.IndexOf(",\"hash\":", StringComparison.Ordinal)] + "}");
        lines[3] = Encoding.UTF8.GetString(AuditChain.Seal(body, AuditChain.Hash(body)));
        WriteLines(path, lines);

        var result = AuditVerifier.Verify([path]);

        Assert.Equal(5, result.FirstBreak!.Line);
        Assert.Contains("does not follow the record before it", result.FirstBreak.Message);
    }

    [Fact]
    public async Task Verify_RemovedRecord_IsNamed()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path).ToList();
        lines.RemoveAt(4);
        WriteLines(path, lines);

        var result = AuditVerifier.Verify([path]);

        Assert.Equal(5, result.FirstBreak!.Line);
        Assert.Equal(6, result.FirstBreak.Seq);
        Assert.Contains("expected seq 5", result.FirstBreak.Message);
    }

    [Fact]
    public async Task Verify_ReorderedRecords_AreNamed()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path);
        (lines[4], lines[5]) = (lines[5], lines[4]);
        WriteLines(path, lines);

        var result = AuditVerifier.Verify([path]);

        Assert.Equal(5, result.FirstBreak!.Line);
        Assert.Contains("out of place", result.FirstBreak.Message);
    }

    [Fact]
    public async Task Verify_TruncatedLastRecord_IsNamed()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text[..^20]);

        var result = AuditVerifier.Verify([path]);

        Assert.Equal(ReadLines(path).Length, result.FirstBreak!.Line);
        Assert.Contains("cut short", result.FirstBreak.Message);
    }

    [Fact]
    public async Task Rotation_ChainSpansTheFiles_InAnyOrderGiven_AndARemovedFileIsCaught()
    {
        var directory = NewDirectory();
        var path = await WriteTrailAsync(directory, sums: 40, new AuditTrailOptions { MaxFileBytes = 2048 });
        var files = Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 4, string.Join(", ", files));
        Assert.Contains(Path.Combine(directory, "audit.000001.jsonl"), files);
        Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 2048, f));

        // Every file after the first continues the previous one's chain: its first prev is the last hash before it.
        var shuffled = files.AsEnumerable().Reverse().ToList();
        var intact = AuditVerifier.Verify(shuffled);
        Assert.True(intact.IsIntact, intact.FirstBreak?.Message);
        Assert.Equal(files.Sum(f => ReadLines(f).Length), intact.Records);
        Assert.Equal(path, intact.Files[^1]);

        var withoutSecond = files.Where(f => !f.EndsWith("audit.000002.jsonl", StringComparison.Ordinal)).ToList();
        var broken = AuditVerifier.Verify(withoutSecond);
        Assert.False(broken.IsIntact);
        Assert.Equal(Path.Combine(directory, "audit.000003.jsonl"), broken.FirstBreak!.File);
        Assert.Equal(1, broken.FirstBreak.Line);

        // An edit inside a rotated file is caught there.
        var first = Path.Combine(directory, "audit.000001.jsonl");
        var lines = ReadLines(first);
        lines[2] = lines[2].Replace("alice", "mallory", StringComparison.Ordinal);
        WriteLines(first, lines);
        var edited = AuditVerifier.Verify(files);
        Assert.Equal(first, edited.FirstBreak!.File);
        Assert.Equal(3, edited.FirstBreak.Line);
    }

    [Fact]
    public async Task Reopen_ContinuesTheChain()
    {
        var directory = NewDirectory();
        var path = await WriteTrailAsync(directory);
        var before = ReadLines(path).Length;
        await WriteTrailAsync(directory);

        var lines = ReadLines(path);
        Assert.Equal(2 * before, lines.Length);
        var reopened = JsonDocument.Parse(lines[before]).RootElement;
        Assert.Equal("open", reopened.GetProperty("type").GetString());
        Assert.Equal(before, reopened.GetProperty("continues_after").GetInt64());
        Assert.True(AuditVerifier.Verify([path]).IsIntact);
    }

    [Fact]
    public async Task Reopen_AfterATornWrite_SealsTheTornFileAndGoesOn()
    {
        var directory = NewDirectory();
        var path = await WriteTrailAsync(directory);
        File.AppendAllText(path, "{\"seq\":12,\"time\":\"2026-01-01T00:0");
        await WriteTrailAsync(directory);

        var files = Directory.GetFiles(directory);
        Assert.Equal(2, files.Length);
        var result = AuditVerifier.Verify(files);
        Assert.Contains("cut short", result.FirstBreak!.Message);
        Assert.EndsWith("audit.000001.jsonl", result.FirstBreak.File, StringComparison.Ordinal);

        // The new file follows the last complete record.
        var sealedLines = ReadLines(Path.Combine(directory, "audit.000001.jsonl"));
        var lastComplete = JsonDocument.Parse(sealedLines[^2]).RootElement.GetProperty("hash").GetString();
        Assert.Equal(lastComplete, JsonDocument.Parse(ReadLines(path)[0]).RootElement.GetProperty("prev").GetString());
    }

    [Fact]
    public async Task Reopen_AfterTheLastRecordWasEdited_Refuses()
    {
        var path = await WriteTrailAsync(NewDirectory());
        var lines = ReadLines(path);
        lines[^1] = lines[^1].Replace("approved", "declined", StringComparison.Ordinal);
        WriteLines(path, lines);

        var ex = Assert.Throws<InvalidDataException>(() => AuditTrail.ToFile(path));
        Assert.Contains("edited", ex.Message);
    }

    [Fact]
    public async Task FullQueue_DropsAndCounts_AndTheTrailSaysSo()
    {
        using var gate = new SemaphoreSlim(0);
        var stream = new GatedStream(gate);
        var trail = AuditTrail.ToStream(stream, new AuditTrailOptions { Capacity = 1 }, timeProvider: new FakeTimeProvider(Start));
        var evaluator = new PolicyEvaluator(Policy.Parse(PolicyJson), timeProvider: new FakeTimeProvider(Start));
        using (trail.Attach(evaluator))
        {
            // The writer is stuck on the first record (open); the queue holds one more; the other 9 are dropped.
            await stream.FirstWrite.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            for (var i = 0; i < 10; i++)
            {
                evaluator.Evaluate(new PolicyIdentity("alice"), "echo", Args("""{"message":"x"}"""));
            }
        }

        Assert.Equal(9, trail.DroppedRecords);
        gate.Release(int.MaxValue / 2);
        await trail.DisposeAsync();

        var path = Path.Combine(NewDirectory(), "stream.jsonl");
        File.WriteAllBytes(path, stream.ToArray());
        var records = ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["open", "gap", "decision"], records.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal(9, records[1].GetProperty("dropped").GetInt64());
        Assert.True(AuditVerifier.Verify([path]).IsIntact);
    }

    [Fact]
    public async Task Stream_LoneSurrogatesAndControlCharacters_StayVerifiable()
    {
        var stream = new MemoryStream();
        var time = new FakeTimeProvider(Start);
        await using (var trail = AuditTrail.ToStream(stream, leaveOpen: true, timeProvider: time))
        {
            var evaluator = new PolicyEvaluator(Policy.Parse("""{ "version": "2", "default": "allow" }"""), timeProvider: time);
            using var _ = trail.Attach(evaluator);
            evaluator.Evaluate(new PolicyIdentity("a\ud800b\n\"c\u2028"), "tool\udc00\u0001", Args("{}"));
            await trail.FlushAsync(Ct);
            Assert.Equal(2, trail.WrittenRecords);
        }

        var path = Path.Combine(NewDirectory(), "s.jsonl");
        File.WriteAllBytes(path, stream.ToArray());
        Assert.True(AuditVerifier.Verify([path]).IsIntact);
        // Each name is kept exactly: the lone surrogates as escapes (System.Text.Json cannot read them back as strings).
        var decision = ReadLines(path)[1];
        Assert.Contains("\"identity\":\"a\\ud800b\\n\\\"c\\u2028\"", decision);
        Assert.Contains("\"tool\":\"tool\\udc00\\u0001\"", decision);
    }

    [Fact]
    public async Task ShadowDisagreements_AreRecorded()
    {
        var stream = new MemoryStream();
        var time = new FakeTimeProvider(Start);
        await using (var trail = AuditTrail.ToStream(stream, leaveOpen: true, timeProvider: time))
        {
            var enforced = new PolicyEvaluator(Policy.Parse("""{ "version": "2", "default": "allow" }"""), timeProvider: time);
            var shadow = new ShadowPolicyEvaluator(enforced, Policy.Parse("""{ "version": "2", "default": "deny" }"""), timeProvider: time);
            using var a = trail.Attach(enforced);
            using var b = trail.Attach(shadow);
            shadow.Evaluate(new PolicyIdentity("alice"), "drop_table", Args("""{"name":"users"}"""));
        }

        var path = Path.Combine(NewDirectory(), "s.jsonl");
        File.WriteAllBytes(path, stream.ToArray());
        var records = ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var shadowRecord = Assert.Single(records, r => r.GetProperty("type").GetString() == "shadow");
        Assert.Equal("allow->deny", shadowRecord.GetProperty("kinds").GetString());
        Assert.Equal("(default deny)", shadowRecord.GetProperty("candidate_rule").GetString());
        Assert.Equal("drop_table", shadowRecord.GetProperty("tool").GetString());
        Assert.True(AuditVerifier.Verify([path]).IsIntact);
    }

    /// <summary>A stream whose writes wait for a gate, to hold the writer while the queue fills.</summary>
    private sealed class GatedStream(SemaphoreSlim gate) : MemoryStream
    {
        public TaskCompletionSource FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            FirstWrite.TrySetResult();
            gate.Wait();
            base.Write(buffer);
        }

        public override void WriteByte(byte value) => base.WriteByte(value);
    }
}
