namespace PolicyEngine.Intercept.Tests;

/// <summary>Corners of the mapping that docs/intercept.md describes.</summary>
public sealed class EdgeCaseTests
{
    [Fact]
    public void ZeroBound_DeniesEveryCallWithTheRuleMessage()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "none"
                    conditions: [{ path: "state.t.n", op: "lt", value: 1 }]
                    state: { counter: "n", window: "day" }
            """);
        var d = h.Call("t");
        Assert.Equal(DecisionKind.Deny, d.Kind);
        Assert.Equal("Rate limit exceeded for none", d.Reason);
        Assert.Equal("none", h.Import.RuleName(d));
    }

    [Fact]
    public void ZeroBoundWithIncrementFrom_AdmitsOnlyZeroAmounts()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "free only"
                    conditions: [{ path: "state.t.spend", op: "lte", value: 0 }]
                    state: { counter: "spend", window: "day", increment_from: "args.amount" }
            """);
        Assert.True(h.Call("t", """{"amount": 0}""").IsAllowed);
        Assert.False(h.Call("t", """{"amount": 1}""").IsAllowed);
    }

    [Fact]
    public void FixedIncrement_CountsByTheIncrement()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "heavy"
                    conditions: [{ path: "state.t.units", op: "lte", value: 5 }]
                    state: { counter: "units", window: "hour", increment: 2 }
            """);
        Assert.True(h.Call("t").IsAllowed);
        Assert.True(h.Call("t").IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, h.Call("t").Kind);
    }

    [Fact]
    public void NegativeIncrementFromAmount_IsDeniedAndCountsNothing()
    {
        var h = new Harness("""
            version: "1"
            tools:
              pay:
                rules:
                  - name: "cap"
                    conditions: [{ path: "state.pay.total", op: "lte", value: 10 }]
                    state: { counter: "total", window: "day", increment_from: "args.amount" }
            """);
        Assert.Equal(DecisionKind.Deny, h.Call("pay", """{"amount": -100}""").Kind);
        Assert.Equal(DecisionKind.Deny, h.Call("pay", """{"amount": 2.5}""").Kind);
        Assert.Equal(DecisionKind.Deny, h.Call("pay", """{}""").Kind);
        Assert.True(h.Call("pay", """{"amount": 10}""").IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, h.Call("pay", """{"amount": 1}""").Kind);
    }

    [Fact]
    public void RuleWithArgumentsAndCounter_ChecksArgumentsThenCounts()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "small and few"
                    on_deny: "no"
                    conditions:
                      - { path: "args.size", op: "lte", value: 10 }
                      - { path: "state.t.calls", op: "lte", value: 2 }
                    state: { counter: "calls", window: "minute" }
            """);
        Assert.Equal(DecisionKind.Deny, h.Call("t", """{"size": 11}""").Kind);
        Assert.True(h.Call("t", """{"size": 1}""").IsAllowed);
        Assert.True(h.Call("t", """{"size": 1}""").IsAllowed);
        var third = h.Call("t", """{"size": 1}""");
        Assert.Equal(DecisionKind.RateLimited, third.Kind);
        Assert.Equal("no", third.Reason);
    }

    [Fact]
    public void YamlScalars_ResolveAsIntercept()
    {
        var h = new Harness("""
            version: 1
            tools:
              t:
                rules:
                  - name: "hex"
                    conditions: [{ path: "args.n", op: "eq", value: 0x1F }]
                  - name: "quoted stays a string"
                    conditions: [{ path: "args.s", op: "eq", value: "31" }]
            """);
        Assert.True(h.Call("t", """{"n": 31, "s": "31"}""").IsAllowed);
        Assert.False(h.Call("t", """{"n": 31, "s": 31}""").IsAllowed);
    }

    [Fact]
    public void ImportedDocument_UsesToolAndGlobalScopes_OrGrantOnRequest()
    {
        const string yaml = "version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: r, rate_limit: 5/hour}\n  \"*\":\n    rules:\n      - {name: g, rate_limit: 9/minute}\n";
        var shared = InterceptPolicy.Import(yaml).Document;
        Assert.Equal("tool", shared.Tools[0].Limits![0].Scope);
        Assert.Equal("t._rate_hour", shared.Tools[0].Limits![0].Counter);
        Assert.Equal("global", shared.AllTools!.Limits![0].Scope);
        var perCaller = InterceptPolicy.Import(yaml, new InterceptImportOptions { PerIdentityCounters = true }).Document;
        Assert.Equal("grant", perCaller.Tools[0].Limits![0].Scope);
        Assert.Equal("grant", perCaller.AllTools!.Limits![0].Scope);
    }
}
