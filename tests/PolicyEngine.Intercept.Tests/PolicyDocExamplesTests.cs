namespace PolicyEngine.Intercept.Tests;

/// <summary>Every example in Intercept's POLICY.md and README imports and behaves as documented there.</summary>
public sealed class PolicyDocExamplesTests
{
    private const string Hiding = """
        version: "1"
        description: "GitHub MCP server policies"

        hide:
          - delete_repository
          - list_webhooks
          - transfer_repository

        tools:
          create_issue:
            rules:
              - name: "hourly issue limit"
                rate_limit: 5/hour
        """;

    [Fact]
    public void Hide_HiddenToolsAreInvisibleAndDenied()
    {
        var h = new Harness(Hiding);
        Assert.False(h.Evaluator.IsVisible(new PolicyIdentity("a"), "delete_repository"));
        Assert.True(h.Evaluator.IsVisible(new PolicyIdentity("a"), "create_issue"));
        var d = h.Call("transfer_repository");
        Assert.Equal(DecisionKind.Deny, d.Kind);
        Assert.Equal(BuiltInRules.Hidden, d.Rule);
        Assert.Equal("(hidden)", h.Import.RuleName(d));
    }

    [Fact]
    public void Hide_Star_HidesEverything()
    {
        var h = new Harness("version: \"1\"\nhide: [\"*\"]\ntools:\n  a:\n    rules: []\n");
        Assert.False(h.Evaluator.IsVisible(new PolicyIdentity("x"), "a"));
        Assert.Equal(DecisionKind.Deny, h.Call("a").Kind);
    }

    [Fact]
    public void RateLimitShorthand_FiveAnHour_SixthIsLimitedWithGeneratedMessage()
    {
        var h = new Harness(Hiding);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(DecisionKind.Allow, h.Call("create_issue").Kind);
        }

        var sixth = h.Call("create_issue");
        Assert.Equal(DecisionKind.RateLimited, sixth.Kind);
        Assert.Equal("Rate limit of 5 per hour reached. Try again later.", sixth.Reason);
        Assert.Equal("hourly issue limit", h.Import.RuleName(sixth));

        // Calendar-aligned UTC windows: the top of the next hour resets the count.
        h.Clock.SetUtcNow(new DateTimeOffset(2026, 1, 1, 11, 0, 0, TimeSpan.Zero));
        Assert.Equal(DecisionKind.Allow, h.Call("create_issue").Kind);
    }

    [Fact]
    public void RateLimitShorthand_CountersAreSharedByEveryCaller()
    {
        var h = new Harness(Hiding);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(DecisionKind.Allow, h.Call("create_issue", identity: $"caller{i}").Kind);
        }

        Assert.Equal(DecisionKind.RateLimited, h.Call("create_issue", identity: "someone-else").Kind);
    }

    [Fact]
    public void RateLimitShorthand_PerIdentityOption_CountsEachCaller()
    {
        var h = new Harness(Hiding, new InterceptImportOptions { PerIdentityCounters = true });
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(DecisionKind.Allow, h.Call("create_issue", identity: "alice").Kind);
        }

        Assert.Equal(DecisionKind.RateLimited, h.Call("create_issue", identity: "alice").Kind);
        Assert.Equal(DecisionKind.Allow, h.Call("create_issue", identity: "bob").Kind);
    }

    [Fact]
    public void DefaultDeny_ListedToolsOnly_WildcardDoesNotRescue()
    {
        var h = new Harness("""
            version: "1"
            default: deny

            tools:
              read_file:
                rules: []          # allowed with no additional checks

              create_issue:
                rules:
                  - name: "hourly limit"
                    rate_limit: 5/hour

              "*":
                rules:
                  - name: "global"
                    rate_limit: 100/minute

              # Any tool not listed above is automatically denied.
            """);
        Assert.Equal(DecisionKind.Allow, h.Call("read_file").Kind);
        Assert.Equal(DecisionKind.Allow, h.Call("create_issue").Kind);
        var unlisted = h.Call("delete_everything");
        Assert.Equal(DecisionKind.Deny, unlisted.Kind);
        Assert.Equal(BuiltInRules.DefaultDeny, unlisted.Rule);
    }

    [Fact]
    public void DefaultAllow_UnlistedToolsAreAllowed()
    {
        var h = new Harness(Hiding);
        Assert.Equal(DecisionKind.Allow, h.Call("list_issues").Kind);
    }

    [Fact]
    public void Rules_StateCounterWithLte_AdmitsExactlyTheLimit()
    {
        var h = new Harness("""
            version: "1"
            tools:
              create_issue:
                rules:
                  - name: "hourly issue limit"
                    conditions:
                      - path: "state.create_issue.hourly_count"
                        op: "lte"
                        value: 5
                    on_deny: "Hourly limit of 5 new issues reached"
                    state:
                      counter: "hourly_count"
                      window: "hour"
            """);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(h.Call("create_issue").IsAllowed);
        }

        var denied = h.Call("create_issue");
        Assert.Equal(DecisionKind.RateLimited, denied.Kind);
        Assert.Equal("Hourly limit of 5 new issues reached", denied.Reason);
    }

    [Fact]
    public void Lt_AdmitsOneFewer()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "three"
                    conditions: [{ path: "state.t.n", op: "lt", value: 3 }]
                    state: { counter: "n", window: "minute" }
            """);
        Assert.True(h.Call("t").IsAllowed);
        Assert.True(h.Call("t").IsAllowed);
        var third = h.Call("t");
        Assert.Equal(DecisionKind.RateLimited, third.Kind);
        Assert.Equal("Rate limit exceeded for three", third.Reason);
    }

    [Fact]
    public void DenyAction_BlocksWithMessage()
    {
        var h = new Harness("""
            version: "1"
            tools:
              create_issue:
                rules:
                  - name: "block"
                    action: "deny"
                    on_deny: "Hourly limit of 5 new issues reached. Wait before creating more."
            """);
        var d = h.Call("create_issue");
        Assert.Equal(DecisionKind.Deny, d.Kind);
        Assert.Equal("Hourly limit of 5 new issues reached. Wait before creating more.", d.Reason);
        Assert.Equal("block", h.Import.RuleName(d));
    }

    [Fact]
    public void AndLogic_EveryConditionMustPass()
    {
        var h = new Harness("""
            version: "1"
            tools:
              create_charge:
                rules:
                  - name: "safe charge"
                    conditions:
                      - path: "args.amount"
                        op: "lte"
                        value: 50000
                      - path: "args.currency"
                        op: "in"
                        value: ["usd", "eur"]
            """);
        Assert.True(h.Call("create_charge", """{"amount": 100, "currency": "usd"}""").IsAllowed);
        var wrongCurrency = h.Call("create_charge", """{"amount": 100, "currency": "gbp"}""");
        Assert.Equal(DecisionKind.Deny, wrongCurrency.Kind);
        Assert.Equal("Denied by rule \"safe charge\"", wrongCurrency.Reason);
        Assert.Equal(DecisionKind.Deny, h.Call("create_charge", """{"amount": 50001, "currency": "usd"}""").Kind);
        Assert.Equal(DecisionKind.Deny, h.Call("create_charge", """{"currency": "usd"}""").Kind);
    }

    [Fact]
    public void NestedArgumentPath_DescendsOneLevelPerDot()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "key"
                    conditions: [{ path: "args.metadata.key", op: "eq", value: "val" }]
            """);
        Assert.True(h.Call("t", """{"metadata": {"key": "val"}}""").IsAllowed);
        Assert.False(h.Call("t", """{"metadata": {"key": "other"}}""").IsAllowed);
        Assert.False(h.Call("t", """{"metadata": "val"}""").IsAllowed);
    }

    private const string DailySpend = """
        version: "1"
        tools:
          create_charge:
            rules:
              - name: "daily spend cap"
                conditions:
                  - path: "state.create_charge.daily_spend"
                    op: "lt"
                    value: 1000000
                on_deny: "Daily spending cap of $10,000.00 reached"
                state:
                  counter: "daily_spend"
                  window: "day"
                  increment_from: "args.amount"
        """;

    [Fact]
    public void DynamicIncrement_SpendsTheAmountAndResetsAtMidnightUtc()
    {
        var h = new Harness(DailySpend);
        Assert.True(h.Call("create_charge", """{"amount": 500000}""").IsAllowed);
        Assert.True(h.Call("create_charge", """{"amount": 499999}""").IsAllowed);
        var over = h.Call("create_charge", """{"amount": 1}""");
        Assert.Equal(DecisionKind.RateLimited, over.Kind);
        Assert.Equal("Daily spending cap of $10,000.00 reached", over.Reason);

        h.Clock.SetUtcNow(new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero));
        Assert.True(h.Call("create_charge", """{"amount": 5000}""").IsAllowed);
    }

    [Fact]
    public void ReserveAndRollback_FailedUpstreamCallConsumesNoQuota()
    {
        var h = new Harness(Hiding);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(h.Call("create_issue", succeeded: false).IsAllowed);
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.True(h.Call("create_issue").IsAllowed);
        }

        Assert.Equal(DecisionKind.RateLimited, h.Call("create_issue").Kind);
    }

    [Fact]
    public void WildcardCounters_AreGlobalAcrossTools()
    {
        var h = new Harness("""
            version: "1"
            tools:
              "*":
                rules:
                  - name: "global rate limit"
                    conditions:
                      - path: "state._global.calls_per_minute"
                        op: "lte"
                        value: 3
                    state:
                      counter: "calls_per_minute"
                      window: "minute"
            """);
        Assert.True(h.Call("a").IsAllowed);
        Assert.True(h.Call("b").IsAllowed);
        Assert.True(h.Call("c", identity: "other").IsAllowed);
        var fourth = h.Call("d");
        Assert.Equal(DecisionKind.RateLimited, fourth.Kind);
        Assert.Equal("global rate limit", h.Import.RuleName(fourth));
        h.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(h.Call("a").IsAllowed);
    }

    [Fact]
    public void RuleOrder_ToolRulesThenWildcard_FirstFailureReported()
    {
        var h = new Harness("""
            version: "1"
            tools:
              tool_a:
                rules:
                  - name: "specific"
                    conditions: [{ path: "args.x", op: "eq", value: "good" }]
                    on_deny: "specific denied"
              "*":
                rules:
                  - name: "global"
                    conditions: [{ path: "args.y", op: "eq", value: "ok" }]
                    on_deny: "global denied"
            """);
        Assert.True(h.Call("tool_a", """{"x": "good", "y": "ok"}""").IsAllowed);
        var wildcard = h.Call("tool_a", """{"x": "good", "y": "bad"}""");
        Assert.Equal("global denied", wildcard.Reason);
        Assert.Equal("global", h.Import.RuleName(wildcard));
        var specific = h.Call("tool_a", """{"x": "bad", "y": "bad"}""");
        Assert.Equal("specific denied", specific.Reason);
        Assert.Equal("specific", h.Import.RuleName(specific));
        Assert.False(h.Call("unlisted", """{"y": "bad"}""").IsAllowed);
    }

    [Fact]
    public void DenyRuleAfterEvaluateRule_EarlierFailureWins()
    {
        var h = new Harness("""
            version: "1"
            tools:
              t:
                rules:
                  - name: "check"
                    conditions: [{ path: "args.x", op: "eq", value: "good" }]
                    on_deny: "bad x"
                  - name: "block"
                    action: deny
                    on_deny: "blocked"
              "*":
                rules:
                  - name: "never reached"
                    action: deny
            """);
        Assert.Equal("bad x", h.Call("t", """{"x": "bad"}""").Reason);
        var blocked = h.Call("t", """{"x": "good"}""");
        Assert.Equal("blocked", blocked.Reason);
        Assert.Equal("block", h.Import.RuleName(blocked));
        var other = h.Call("other");
        Assert.Equal("Denied by rule \"never reached\"", other.Reason);
    }

    private const string GitHub = """
        version: "1"
        description: "GitHub MCP server policies"

        hide:
          - transfer_repository
          - list_webhooks

        tools:
          create_issue:
            rules:
              - name: "hourly issue limit"
                rate_limit: 5/hour
                on_deny: "Hourly limit of 5 new issues reached"

          create_pull_request:
            rules:
              - name: "hourly pr limit"
                rate_limit: 3/hour
                on_deny: "Hourly limit of 3 new pull requests reached"

          delete_repository:
            rules:
              - name: "block repo deletion"
                action: "deny"
                on_deny: "Repository deletion is not permitted via AI agents"

          "*":
            rules:
              - name: "global rate limit"
                rate_limit: 60/minute
        """;

    [Fact]
    public void CompleteExample_GitHub()
    {
        var h = new Harness(GitHub);
        Assert.Equal(DecisionKind.Deny, h.Call("transfer_repository").Kind);
        Assert.Equal("Repository deletion is not permitted via AI agents", h.Call("delete_repository").Reason);
        for (var i = 0; i < 3; i++)
        {
            Assert.True(h.Call("create_pull_request").IsAllowed);
        }

        Assert.Equal("Hourly limit of 3 new pull requests reached", h.Call("create_pull_request").Reason);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(h.Call("create_issue").IsAllowed);
        }

        Assert.Equal("Hourly limit of 5 new issues reached", h.Call("create_issue").Reason);

        // 8 calls admitted so far in this minute; the global limit admits 60.
        for (var i = 0; i < 52; i++)
        {
            Assert.True(h.Call("get_file_contents").IsAllowed);
        }

        var global = h.Call("get_file_contents");
        Assert.Equal(DecisionKind.RateLimited, global.Kind);
        Assert.Equal("Rate limit of 60 per minute reached. Try again later.", global.Reason);
    }

    private const string Stripe = """
        version: "1"
        description: "Stripe MCP server policies"

        tools:
          create_charge:
            rules:
              - name: "max single charge"
                conditions:
                  - path: "args.amount"
                    op: "lte"
                    value: 50000
                on_deny: "Single charge cannot exceed $500.00"

              - name: "daily spend cap"
                conditions:
                  - path: "state.create_charge.daily_spend"
                    op: "lte"
                    value: 1000000
                on_deny: "Daily spending cap of $10,000.00 reached"
                state:
                  counter: "daily_spend"
                  window: "day"
                  increment_from: "args.amount"

              - name: "allowed currencies"
                conditions:
                  - path: "args.currency"
                    op: "in"
                    value: ["usd", "eur"]
                on_deny: "Only USD and EUR charges are permitted"

          create_refund:
            rules:
              - name: "refund limit"
                conditions:
                  - path: "args.amount"
                    op: "lte"
                    value: 10000
                on_deny: "Refunds over $100.00 require manual processing"

              - name: "daily refund count"
                conditions:
                  - path: "state.create_refund.daily_count"
                    op: "lte"
                    value: 10
                on_deny: "Daily refund limit (10) reached"
                state:
                  counter: "daily_count"
                  window: "day"

          delete_customer:
            rules:
              - name: "block destructive action"
                action: "deny"
                on_deny: "Customer deletion is not permitted via AI agents"

          "*":
            rules:
              - name: "global rate limit"
                conditions:
                  - path: "state._global.calls_per_minute"
                    op: "lte"
                    value: 60
                on_deny: "Rate limit: maximum 60 tool calls per minute"
                state:
                  counter: "calls_per_minute"
                  window: "minute"
        """;

    [Fact]
    public void CompleteExample_Stripe()
    {
        var h = new Harness(Stripe);
        Assert.Equal("Single charge cannot exceed $500.00", h.Call("create_charge", """{"amount": 50001, "currency": "usd"}""").Reason);
        Assert.Equal("Only USD and EUR charges are permitted", h.Call("create_charge", """{"amount": 100, "currency": "gbp"}""").Reason);
        Assert.Equal("Customer deletion is not permitted via AI agents", h.Call("delete_customer").Reason);
        Assert.Equal("Refunds over $100.00 require manual processing", h.Call("create_refund", """{"amount": 10001}""").Reason);

        for (var i = 0; i < 10; i++)
        {
            Assert.True(h.Call("create_refund", """{"amount": 100}""").IsAllowed);
            h.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal("Daily refund limit (10) reached", h.Call("create_refund", """{"amount": 100}""").Reason);

        // 20 charges of $500.00 reach the $10,000.00 cap exactly; the next cent is refused.
        for (var i = 0; i < 20; i++)
        {
            Assert.True(h.Call("create_charge", """{"amount": 50000, "currency": "eur"}""").IsAllowed);
            h.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        var capped = h.Call("create_charge", """{"amount": 1, "currency": "eur"}""");
        Assert.Equal(DecisionKind.RateLimited, capped.Kind);
        Assert.Equal("Daily spending cap of $10,000.00 reached", capped.Reason);
        Assert.Equal("daily spend cap", h.Import.RuleName(capped));
    }

    [Fact]
    public void CompleteExample_Stripe_GlobalLimitAppliesToEveryTool()
    {
        var h = new Harness(Stripe);
        for (var i = 0; i < 60; i++)
        {
            Assert.True(h.Call("list_customers").IsAllowed);
        }

        Assert.Equal("Rate limit: maximum 60 tool calls per minute", h.Call("list_customers").Reason);
    }

    [Fact]
    public void ReadmeQuickStart_BlockRepoDeletion()
    {
        // The README shows the tool entry alone; in a file it sits under "tools".
        var h = new Harness("""
            version: "1"
            tools:
              delete_repository:
                rules:
                  - name: "block repo deletion"
                    action: "deny"
                    on_deny: "Repository deletion is not permitted"
            """);
        var d = h.Call("delete_repository");
        Assert.Equal(DecisionKind.Deny, d.Kind);
        Assert.Equal("Repository deletion is not permitted", d.Reason);
        Assert.True(h.Call("create_issue").IsAllowed);
    }

    [Theory]
    [InlineData("eq", "\"main\"", """{"v": "main"}""", true)]
    [InlineData("eq", "\"main\"", """{"v": "dev"}""", false)]
    [InlineData("eq", "50000", """{"v": 50000.0}""", true)]
    [InlineData("neq", "\"draft\"", """{"v": "final"}""", true)]
    [InlineData("neq", "\"draft\"", """{"v": "draft"}""", false)]
    [InlineData("neq", "\"draft\"", """{}""", false)]
    [InlineData("in", "[\"usd\", \"eur\"]", """{"v": "eur"}""", true)]
    [InlineData("not_in", "[\"admin\"]", """{"v": "user"}""", true)]
    [InlineData("not_in", "[\"admin\"]", """{"v": "admin"}""", false)]
    [InlineData("not_in", "[\"admin\"]", """{}""", false)]
    [InlineData("lt", "100", """{"v": 99}""", true)]
    [InlineData("lte", "50000", """{"v": 50000}""", true)]
    [InlineData("gt", "0", """{"v": 0}""", false)]
    [InlineData("gte", "1", """{"v": 1}""", true)]
    [InlineData("lte", "100", """{"v": "not-a-number"}""", false)]
    [InlineData("regex", "\"^feat/\"", """{"v": "feat/x"}""", true)]
    [InlineData("regex", "\"^feat/\"", """{"v": "fix/x"}""", false)]
    [InlineData("regex", "'\\d+'", """{"v": 42}""", false)]
    [InlineData("regex", "\"(?P<kind>feat)/\"", """{"v": "feat/x"}""", true)]
    [InlineData("contains", "\"test\"", """{"v": "a test run"}""", true)]
    [InlineData("contains", "\"b\"", """{"v": ["a", "b"]}""", true)]
    [InlineData("contains", "\"4\"", """{"v": 42}""", false)]
    [InlineData("exists", "true", """{"v": 1}""", true)]
    [InlineData("exists", "true", """{"v": null}""", false)]
    [InlineData("exists", "false", """{}""", true)]
    public void Operators_BehaveAsDocumented(string op, string value, string args, bool allowed)
    {
        var h = new Harness($"version: \"1\"\ntools:\n  t:\n    rules:\n      - name: \"r\"\n        conditions:\n          - path: \"args.v\"\n            op: \"{op}\"\n            value: {value}\n");
        Assert.Equal(allowed, h.Call("t", args).IsAllowed);
    }
}
