using System.Text.Json;

namespace PolicyEngine.Cli.Tests;

/// <summary>
/// Black-box conformance cases written from DESIGN.md alone (§2, §4, §6), run through the CLI entry point.
/// Each eval topic is Conformance/&lt;topic&gt;.policy.json + .calls.jsonl + .expected.jsonl; each expected line
/// names only the fields DESIGN fixes (decision, rule, reason, retry_after_ms) plus a few test-only checks:
/// "error": true (a malformed line), "not_allow": true (an error line or any decision but allow),
/// "reason_contains", "approval_id": true (present and non-empty). "#" is a comment.
/// Each validate topic is Conformance/validate/&lt;name&gt;.policy.json + .expected.json:
/// { "exit": n, "errors": [ { "pointer" | "pointer_prefix", "message_contains"? } ] }, every expected error
/// matched by a distinct output line.
/// </summary>
public class ConformanceTests
{
    private static readonly string Root = Path.Combine(AppContext.BaseDirectory, "Conformance");

    public static TheoryData<string> EvalTopics() =>
        new(Directory.GetFiles(Root, "*.policy.json").Select(p => Path.GetFileName(p)[..^".policy.json".Length]).Order());

    public static TheoryData<string> ValidateTopics() =>
        new(Directory.GetFiles(Path.Combine(Root, "validate"), "*.policy.json").Select(p => Path.GetFileName(p)[..^".policy.json".Length]).Order());

    private static List<JsonElement> JsonLines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Theory]
    [MemberData(nameof(EvalTopics))]
    public async Task Eval(string topic)
    {
        var calls = Path.Combine(Root, topic + ".calls.jsonl");
        var expected = JsonLines(File.ReadAllText(Path.Combine(Root, topic + ".expected.jsonl")));
        var callLines = File.ReadAllLines(calls);

        var (code, stdout, stderr) = await CliRunner.RunAsync("", "eval", "--policy", Path.Combine(Root, topic + ".policy.json"), "--input", calls);

        Assert.True(code == 0, $"exit {code}: {stderr}");
        var actual = JsonLines(stdout);
        Assert.Equal(expected.Count, actual.Count);
        var failures = new List<string>();
        for (var i = 0; i < expected.Count; i++)
        {
            var problem = Compare(expected[i], actual[i]);
            if (problem is not null)
                failures.Add($"line {i + 1}: {callLines[i]}\n    expected {expected[i]}\n    actual   {actual[i]}\n    ({problem})");
        }
        Assert.True(failures.Count == 0, $"{topic}: {failures.Count} mismatches\n" + string.Join('\n', failures));
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Compare(JsonElement exp, JsonElement act)
    {
        var isError = act.TryGetProperty("error", out _);
        if (exp.TryGetProperty("error", out _))
            return isError ? null : "expected an error line";
        if (exp.TryGetProperty("not_allow", out _))
            return isError || Str(act, "decision") != "allow" ? null : "expected anything but allow";
        if (isError) return "unexpected error line";
        foreach (var field in new[] { "decision", "rule", "reason" })
            if (exp.TryGetProperty(field, out var want) && want.GetString() != Str(act, field))
                return $"{field} differs";
        if (exp.TryGetProperty("retry_after_ms", out var retry) &&
            (!act.TryGetProperty("retry_after_ms", out var got) || got.ValueKind != JsonValueKind.Number || got.GetInt64() != retry.GetInt64()))
            return "retry_after_ms differs";
        if (exp.TryGetProperty("reason_contains", out var part) && !(Str(act, "reason") ?? "").Contains(part.GetString()!, StringComparison.Ordinal))
            return "reason lacks " + part.GetString();
        if (exp.TryGetProperty("approval_id", out _) && string.IsNullOrEmpty(Str(act, "approval_id")))
            return "approval_id missing";
        return null;
    }

    [Theory]
    [MemberData(nameof(ValidateTopics))]
    public async Task Validate(string name)
    {
        var dir = Path.Combine(Root, "validate");
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".expected.json"))).RootElement;

        var (code, stdout, _) = await CliRunner.RunAsync("", "validate", Path.Combine(dir, name + ".policy.json"));

        Assert.Equal(expected.GetProperty("exit").GetInt32(), code);
        var lines = JsonLines(stdout);
        if (code == 0)
        {
            Assert.Empty(lines);
            return;
        }
        Assert.NotEmpty(lines);
        Assert.All(lines, l => { Assert.NotNull(Str(l, "pointer")); Assert.NotNull(Str(l, "message")); });
        if (!expected.TryGetProperty("errors", out var errors)) return;
        var unused = lines.ToList();
        foreach (var want in errors.EnumerateArray())
        {
            var index = unused.FindIndex(l =>
                (!want.TryGetProperty("pointer", out var p) || Str(l, "pointer") == p.GetString()) &&
                (!want.TryGetProperty("pointer_prefix", out var pp) || Str(l, "pointer")!.StartsWith(pp.GetString()!, StringComparison.Ordinal)) &&
                (!want.TryGetProperty("message_contains", out var m) || Str(l, "message")!.Contains(m.GetString()!, StringComparison.OrdinalIgnoreCase)));
            Assert.True(index >= 0, $"{name}: no output line matches {want}\noutput:\n{stdout}");
            unused.RemoveAt(index);
        }
    }

    /// <summary>§2: a sliding limit's retry-after is never optimistic — retrying exactly when told is admitted.</summary>
    [Theory]
    [InlineData("minute", 2, new[] { "00:00:50", "00:00:55" }, "00:01:05")]
    [InlineData("minute", 3, new[] { "00:00:01", "00:00:30", "00:00:59" }, "00:01:00")]
    [InlineData("10s", 2, new[] { "00:00:09", "00:00:11" }, "00:00:12")]
    public async Task Sliding_RetryAfter_IsNeverOptimistic(string window, int max, string[] admitted, string limited)
    {
        var policy = CliRunner.TempFile($$"""
            { "version": "2", "default": "deny", "tools": { "sl": { "limits": [
              { "counter": "sl", "window": "{{window}}", "max": {{max}}, "scope": "grant", "algorithm": "sliding" } ] } } }
            """);
        static string Line(string t) => $$"""{"identity": "a", "tool": "sl", "args": {}, "at": "2026-01-01T{{t}}Z"}""";
        var lines = admitted.Select(Line).Append(Line(limited)).ToList();

        var (_, first, _) = await CliRunner.RunAsync(string.Join('\n', lines), "eval", "--policy", policy);
        var decisions = JsonLines(first);
        Assert.All(decisions.Take(admitted.Length), d => Assert.Equal("allow", Str(d, "decision")));
        Assert.Equal("rate_limited", Str(decisions[^1], "decision"));
        var retry = decisions[^1].GetProperty("retry_after_ms").GetInt64();
        Assert.True(retry > 0);

        var at = DateTimeOffset.Parse("2026-01-01T" + limited + "Z").AddMilliseconds(retry);
        lines.Add($$"""{"identity": "a", "tool": "sl", "args": {}, "at": "{{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}}"}""");
        var (_, second, _) = await CliRunner.RunAsync(string.Join('\n', lines), "eval", "--policy", policy);
        Assert.Equal("allow", Str(JsonLines(second)[^1], "decision"));
    }
}
