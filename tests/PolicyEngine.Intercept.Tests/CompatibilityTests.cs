namespace PolicyEngine.Intercept.Tests;

/// <summary>
/// Calls whose outcome follows from Intercept's POLICY.md and its engine (internal/engine/operators.go, resolve.go,
/// internal/proxy/handler.go): each case is a one-rule policy, a call, and Intercept's answer.
/// </summary>
public sealed class CompatibilityTests
{
    private static string One(string op, string value) => $$"""
        version: "1"
        tools:
          t:
            rules:
              - name: "r"
                conditions: [{ path: "args.x", op: "{{op}}", value: {{value}} }]
        """;

    public static TheoryData<string, string, string, bool> Conditions => new()
    {
        // eq / neq: numbers by value, then printed text; a missing field fails every operator but exists.
        { "eq", "\"main\"", """{"x": "main"}""", true },
        { "eq", "\"main\"", """{"x": "Main"}""", false },
        { "eq", "100", """{"x": 100.0}""", true },
        { "eq", "true", """{"x": false}""", false },
        { "eq", "\"\"", """{"x": ""}""", true },
        { "neq", "\"draft\"", """{}""", false },
        { "neq", "\"draft\"", """{"x": null}""", false },
        { "neq", "\"draft\"", """{"x": "final"}""", true },
        { "in", "[1, 2, 3]", """{"x": 2.0}""", true },
        { "in", "[]", """{"x": "a"}""", false },
        { "in", "[\"a\"]", """{"x": ["a"]}""", false },
        { "not_in", "[\"admin\"]", """{}""", false },
        { "not_in", "[]", """{"x": "a"}""", true },
        { "lt", "100", """{"x": 100}""", false },
        { "gt", "0", """{"x": 0.001}""", true },
        { "gte", "1.5", """{"x": 1.49}""", false },
        { "lte", "100", """{"x": "5"}""", false },
        { "lte", "100", """{"x": true}""", false },
        { "gt", "-10", """{"x": -9}""", true },

        // regex: unanchored search, strings only, RE2's ASCII-only Perl and POSIX classes.
        { "regex", "\"abc\"", """{"x": "xxabcxx"}""", true },
        { "regex", "'^feat/'", """{"x": "fix/feat/"}""", false },
        { "regex", """'\d+'""", """{"x": 42}""", false },
        { "regex", "'(?i)^drop'", """{"x": "DROP TABLE"}""", true },
        { "regex", """'^\d+$'""", """{"x": "123"}""", true },
        { "regex", """'^\d+$'""", """{"x": "١٢٣"}""", false },
        { "regex", """'^\w+$'""", """{"x": "café"}""", false },
        { "regex", """'^a\sb$'""", """{"x": "a\u00a0b"}""", false },
        { "regex", """'^[\d_]+$'""", """{"x": "1_2"}""", true },
        { "regex", """'^[\d_]+$'""", """{"x": "١"}""", false },
        { "regex", """'^[^\s]+$'""", """{"x": "a\u00a0b"}""", true },
        { "regex", """'^\D+$'""", """{"x": "é١"}""", true },
        { "regex", """'^\\d$'""", """{"x": "\\d"}""", true },
        { "regex", "'^[[:digit:]]+$'", """{"x": "123"}""", true },
        { "regex", "'^[[:digit:]]+$'", """{"x": "abc"}""", false },
        { "regex", "'^[[:^digit:]]+$'", """{"x": "abc"}""", true },
        { "regex", "'^[]a]+$'", """{"x": "]a]"}""", true },
        { "regex", """'^(?P<year>\d{4})-(?P<m>\d\d)$'""", """{"x": "2024-01"}""", true },

        // contains: substring of a string, element of a list; anything else fails.
        { "contains", "\"test\"", """{"x": "my test file"}""", true },
        { "contains", "\"Test\"", """{"x": "test"}""", false },
        { "contains", "\"b\"", """{"x": ["a", "b"]}""", true },
        { "contains", "2", """{"x": [1, 2.0]}""", true },
        { "contains", "\"4\"", """{"x": 42}""", false },
        { "contains", "5", """{"x": "a5"}""", false },
        { "contains", "\"k\"", """{"x": {"k": 1}}""", false },

        // exists: a null argument counts as absent.
        { "exists", "true", """{"x": 0}""", true },
        { "exists", "true", """{"x": false}""", true },
        { "exists", "true", """{"x": null}""", false },
        { "exists", "false", """{"x": null}""", true },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    public void Condition_DecidesAsIntercept(string op, string value, string args, bool allowed)
    {
        var h = new Harness(One(op, value));
        var d = h.Call("t", args);
        Assert.Equal(allowed, d.IsAllowed);
        if (!allowed)
        {
            Assert.Equal("Denied by rule \"r\"", d.Reason);
        }
    }

    [Theory]
    [InlineData("say \"hi\"", "Denied by rule \"say \\\"hi\\\"\"")]
    [InlineData("tab\there", "Denied by rule \"tab\\there\"")]
    [InlineData("café ✓", "Denied by rule \"café ✓\"")]
    [InlineData("back\\slash", "Denied by rule \"back\\\\slash\"")]
    public void GeneratedMessage_QuotesTheNameAsGo(string name, string message)
    {
        var yaml = "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: " + System.Text.Json.JsonSerializer.Serialize(name) + "\n        action: deny\n";
        var d = new Harness(yaml).Call("t");
        Assert.Equal(message, d.Reason);
    }

    [Fact]
    public void HiddenAndUnlistedTools_GetInterceptsMessages()
    {
        var h = new Harness("""
            version: "1"
            default: deny
            hide: [secret, "café"]
            tools:
              ok:
                rules: []
              secret:
                rules: []
            """);
        var hidden = h.Call("secret");
        Assert.Equal("Tool \"secret\" is hidden by policy", InterceptPolicy.Message(hidden, "secret"));
        Assert.Equal("Tool \"café\" is hidden by policy", InterceptPolicy.Message(h.Call("café"), "café"));
        var unlisted = h.Call("a\"b");
        Assert.Equal("Tool \"a\\\"b\" is not permitted by policy", InterceptPolicy.Message(unlisted, "a\"b"));
        Assert.Null(InterceptPolicy.Message(h.Call("ok"), "ok"));
        var denied = new Harness("version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: r, action: deny, on_deny: nope}\n").Call("t");
        Assert.Equal("nope", InterceptPolicy.Message(denied, "t"));
    }

    [Theory]
    [InlineData("(a)\\1")]
    [InlineData("(?=a)b")]
    [InlineData("(?<!a)b")]
    public void RegexTheLinearEngineRefuses_IsAnInvalidRegex(string pattern)
    {
        var yaml = "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: r\n        conditions: [{path: args.a, op: regex, value: '" + pattern + "'}]\n";
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/rules/0/conditions/0/value", error.Pointer);
        Assert.StartsWith($"invalid regex \"{pattern}\"", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("([a-z]{1,50}){1,50}!")]
    [InlineData("\\w{1,1000}")]
    public void RegexOverTheBudget_IsRefusedAtItsValue(string pattern)
    {
        var yaml = "version: \"1\"\ntools:\n  t:\n    rules:\n      - name: r\n        conditions: [{path: args.a, op: regex, value: '" + pattern + "'}]\n";
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/rules/0/conditions/0/value", error.Pointer);
        Assert.Contains("too costly", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GlobalFull_RollsBackTheToolCounter()
    {
        // handler.go reserveAll: the tool's counter is reserved first and handed back when the global one is full.
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - {name: "tl", rate_limit: 2/minute, on_deny: "tool full"}
              "*":
                rules:
                  - {name: "gl", rate_limit: 1/minute, on_deny: "global full"}
            """);
        Assert.True(h.Call("o").IsAllowed);
        Assert.Equal("global full", h.Call("t").Reason);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(h.Call("t").IsAllowed);
        Assert.Equal("global full", h.Call("t").Reason);
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(h.Call("t").IsAllowed);
    }

    [Fact]
    public void ArgumentRule_WinsOverAFullCounter()
    {
        // engine.Evaluate checks every argument condition before handler.go reserves any counter.
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - {name: "lim", rate_limit: 1/minute}
              "*":
                rules:
                  - {name: "g", conditions: [{path: args.safe, op: eq, value: true}], on_deny: "unsafe"}
            """);
        Assert.True(h.Call("t", """{"safe": true}""").IsAllowed);
        var d = h.Call("t", """{"safe": false}""");
        Assert.Equal(DecisionKind.Deny, d.Kind);
        Assert.Equal("unsafe", d.Reason);
        Assert.Equal("Rate limit of 1 per minute reached. Try again later.", h.Call("t", """{"safe": true}""").Reason);
    }

    [Fact]
    public void Windows_AreCalendarAlignedInUtc()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - {name: "m", rate_limit: 2/minute}
                  - {name: "h", rate_limit: 3/hour}
            """);
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 1, 1, 10, 0, 59, TimeSpan.Zero));
        Assert.True(h.Call("t").IsAllowed);
        Assert.True(h.Call("t").IsAllowed);
        Assert.Equal("Rate limit of 2 per minute reached. Try again later.", h.Call("t").Reason);
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 1, 1, 10, 1, 0, TimeSpan.Zero));
        Assert.True(h.Call("t").IsAllowed);
        Assert.Equal("Rate limit of 3 per hour reached. Try again later.", h.Call("t").Reason);
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 1, 1, 11, 0, 0, TimeSpan.Zero));
        Assert.True(h.Call("t").IsAllowed);
    }

    [Fact]
    public void RateLimitCount_ReadsAsGoAtoi()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - {name: "a", rate_limit: "02/minute"}
              u:
                rules:
                  - {name: "b", rate_limit: "+1/minute"}
            """);
        Assert.True(h.Call("t").IsAllowed);
        Assert.True(h.Call("t").IsAllowed);
        Assert.Equal("Rate limit of 2 per minute reached. Try again later.", h.Call("t").Reason);
        Assert.True(h.Call("u").IsAllowed);
        Assert.Equal("Rate limit of 1 per minute reached. Try again later.", h.Call("u").Reason);
    }
}
