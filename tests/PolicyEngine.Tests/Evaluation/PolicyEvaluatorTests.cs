using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Tests.Diagnostics;

namespace PolicyEngine.Tests.Evaluation;

[Collection(TelemetryCollection.Name)]
public class PolicyEvaluatorTests
{
    private static readonly PolicyIdentity Alice = new("alice");
    private static readonly JsonElement NoArgs = TestPolicies.Args("{}");

    private const string Refunds = """
        {
          "version": "1",
          "default": "deny",
          "hide": ["delete_account"],
          "all_tools": { "limits": [ { "counter": "calls_per_minute", "window": "minute", "max": 60, "scope": "grant" } ] },
          "tools": {
            "list_customers": {},
            "delete_account": {},
            "create_refund": {
              "require": [ { "path": "args.reason", "op": "exists", "value": true, "on_deny": "A refund needs a reason" } ],
              "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000, "on_deny": "Refunds over 100.00 need a human" } ],
              "limits":  [ { "counter": "refunds_per_hour", "window": "hour", "max": 10, "scope": "grant" } ]
            }
          }
        }
        """;

    [Fact]
    public void Evaluate_DesignExample_DecidesEachRule()
    {
        var evaluator = TestPolicies.Evaluator(Refunds);

        var hidden = evaluator.Evaluate(Alice, "delete_account", NoArgs);
        var unlisted = evaluator.Evaluate(Alice, "drop_tables", NoArgs);
        var listed = evaluator.Evaluate(Alice, "list_customers", NoArgs);
        var noReason = evaluator.Evaluate(Alice, "create_refund", TestPolicies.Args("""{"amount": 5}"""));
        var tooMuch = evaluator.Evaluate(Alice, "create_refund", TestPolicies.Args("""{"amount": 10001, "reason": "x"}"""));
        var ok = evaluator.Evaluate(Alice, "create_refund", TestPolicies.Args("""{"amount": 10000, "reason": "x"}"""));

        Assert.Equal((DecisionKind.Deny, BuiltInRules.Hidden), (hidden.Kind, hidden.Rule));
        Assert.Equal((DecisionKind.Deny, BuiltInRules.DefaultDeny), (unlisted.Kind, unlisted.Rule));
        Assert.Equal(DecisionKind.Allow, listed.Kind);
        Assert.Equal((DecisionKind.Deny, "/tools/create_refund/require/0", "A refund needs a reason"), (noReason.Kind, noReason.Rule, noReason.Reason));
        Assert.Equal((DecisionKind.Deny, "/tools/create_refund/deny_if/0", "Refunds over 100.00 need a human"), (tooMuch.Kind, tooMuch.Rule, tooMuch.Reason));
        Assert.Equal((DecisionKind.Allow, "/tools/create_refund"), (ok.Kind, ok.Rule));
        Assert.NotNull(ok.Reservation);
    }

    [Fact]
    public void Evaluate_SeveralDenials_ReportsTheFirstInCheckOrder()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "allow",
              "all_tools": { "require": [ { "path": "args.ticket", "op": "exists", "value": true, "on_deny": "all" } ] },
              "tools": { "t": {
                "require": [ { "path": "args.a", "op": "exists", "value": true, "on_deny": "require a" } ],
                "deny_if": [ { "path": "args.b", "op": "eq", "value": 1, "on_deny": "deny b" } ] } } }
            """);

        Assert.Equal("require a", evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"b": 1}""")).Reason);
        Assert.Equal("deny b", evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"a": 1, "b": 1}""")).Reason);
        Assert.Equal("all", evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"a": 1}""")).Reason);
        Assert.Equal("/all_tools/require/0", evaluator.Evaluate(Alice, "other", NoArgs).Rule);
    }

    [Fact]
    public void Evaluate_Globs_ExactBeatsGlobAndLongerPrefixBeatsShorter()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny",
              "tools": {
                "*": { "action": "deny", "on_deny": "star" },
                "fs_*": { "action": "deny", "on_deny": "fs" },
                "fs_read*": {},
                "fs_read_secrets": { "action": "deny", "on_deny": "exact" } } }
            """);

        Assert.Equal("star", evaluator.Evaluate(Alice, "net_get", NoArgs).Reason);
        Assert.Equal("fs", evaluator.Evaluate(Alice, "fs_write", NoArgs).Reason);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "fs_read_file", NoArgs).Kind);
        Assert.Equal("/tools/fs_read*", evaluator.Evaluate(Alice, "fs_read_file", NoArgs).Rule);
        Assert.Equal("exact", evaluator.Evaluate(Alice, "fs_read_secrets", NoArgs).Reason);
    }

    [Fact]
    public void Evaluate_ActionDeny_StaysVisibleButDenies()
    {
        var evaluator = TestPolicies.Evaluator("""{ "version": "2", "default": "allow", "tools": { "drop": { "action": "deny", "on_deny": "Never" } } }""");

        var decision = evaluator.Evaluate(Alice, "drop", NoArgs);

        Assert.Equal((DecisionKind.Deny, "/tools/drop", "Never"), (decision.Kind, decision.Rule, decision.Reason));
        Assert.True(evaluator.IsVisible(Alice, "drop"));
    }

    [Theory]
    [InlineData("""["*"]""", "anything", false)]
    [InlineData("""["secret_*"]""", "secret_keys", false)]
    [InlineData("""["secret_*"]""", "public_keys", true)]
    [InlineData("""["a"]""", "a", false)]
    [InlineData("""[]""", "a", true)]
    public void IsVisible_Hide_RemovesHiddenToolsOnly(string hide, string tool, bool visible)
    {
        var evaluator = TestPolicies.Evaluator($$"""{ "version": "2", "default": "allow", "hide": {{hide}}, "tools": { "{{tool}}": {} } }""");

        Assert.Equal(visible, evaluator.IsVisible(Alice, tool));
        Assert.Equal(visible ? DecisionKind.Allow : DecisionKind.Deny, evaluator.Evaluate(Alice, tool, NoArgs).Kind);
    }

    [Fact]
    public void Evaluate_ArgsSchema_DeniesWithInstanceLocation()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": { "charge": {
              "args_schema": { "type": "object", "required": ["amount"],
                               "properties": { "amount": { "type": "integer", "minimum": 1 } } } } } }
            """);

        var good = evaluator.Evaluate(Alice, "charge", TestPolicies.Args("""{"amount": 5}"""));
        var bad = evaluator.Evaluate(Alice, "charge", TestPolicies.Args("""{"amount": "5"}"""));
        var missing = evaluator.Evaluate(Alice, "charge", NoArgs);

        Assert.Equal(DecisionKind.Allow, good.Kind);
        Assert.Equal((DecisionKind.Deny, "/tools/charge/args_schema"), (bad.Kind, bad.Rule));
        Assert.Contains("/amount", bad.Reason);
        Assert.Equal(DecisionKind.Deny, missing.Kind);
    }

    [Fact]
    public void Evaluate_DictionaryArguments_DecideLikeJsonElement()
    {
        var evaluator = TestPolicies.Evaluator(Refunds);
        var element = TestPolicies.Args("""{"amount": 20000, "reason": "x"}""");
        var dictionary = element.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);

        var fromElement = evaluator.Evaluate(Alice, "create_refund", element);
        var fromDictionary = evaluator.Evaluate(Alice, "create_refund", dictionary);
        var fromNull = evaluator.Evaluate(Alice, "create_refund", (IReadOnlyDictionary<string, JsonElement>?)null);

        Assert.Equal((fromElement.Kind, fromElement.Rule), (fromDictionary.Kind, fromDictionary.Rule));
        Assert.Equal("/tools/create_refund/require/0", fromNull.Rule);
    }

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void Evaluate_NonObjectArguments_Deny(string args)
    {
        var evaluator = TestPolicies.Evaluator("""{ "version": "2", "default": "allow" }""");

        var decision = evaluator.Evaluate(Alice, "t", TestPolicies.Args(args));

        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (decision.Kind, decision.Rule));
    }

    [Fact]
    public void Evaluate_DuplicatedArgumentKeyOnRulePath_Denies()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "allow", "tools": { "t": {
              "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100 } ] } } }
            """);

        // A tool that reads the last copy would see 1,000,000; the policy must not check only the first.
        var decision = evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"amount": 1, "amount": 1000000}"""));

        Assert.Equal(DecisionKind.Deny, decision.Kind);
    }

    [Fact]
    public void Evaluate_DeeplyNestedAndHugeArguments_NeverThrow()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "allow", "tools": { "t": {
              "deny_if": [ { "path": "args.a.a.a", "op": "eq", "value": { "a": 1 } },
                           { "path": "args.s", "op": "regex", "value": "x{3}" } ] } } }
            """);
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000);
        var huge = $$"""{"s": "{{new string('y', 5_000_000)}}"}""";

        var first = evaluator.Evaluate(Alice, "t", TestPolicies.Args(deep));
        var second = evaluator.Evaluate(Alice, "t", TestPolicies.Args(huge));

        Assert.True(first.Kind is DecisionKind.Allow or DecisionKind.Deny);
        Assert.Equal(DecisionKind.Allow, second.Kind);
    }

    [Fact]
    public void Evaluate_NeedsApproval_ApprovalIsSingleUseAndBoundToTheExactCall()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": { "refund": {
              "approval": { "when": [ { "path": "args.amount", "op": "gt", "value": 100 } ], "reason": "big refund", "ttl": "5m" } } } }
            """, time);
        var callA = TestPolicies.Args("""{"amount": 500, "to": "bob"}""");
        var callAReordered = TestPolicies.Args("""{"to": "bob", "amount": 5e2}""");
        var callB = TestPolicies.Args("""{"amount": 501, "to": "bob"}""");

        var pending = evaluator.Evaluate(Alice, "refund", callA);
        Assert.Equal((DecisionKind.NeedsApproval, "/tools/refund/approval", "big refund"), (pending.Kind, pending.Rule, pending.Reason));
        Assert.Equal(TimeSpan.FromMinutes(5), pending.Approval!.TimeToLive);
        Assert.Equal(pending.Approval.Id, evaluator.Evaluate(Alice, "refund", callAReordered).Approval!.Id);

        evaluator.Approve(pending.Approval);

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(Alice, "refund", callB).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(new PolicyIdentity("mallory"), "refund", callA).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "refund", callAReordered).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(Alice, "refund", callA).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "refund", TestPolicies.Args("""{"amount": 5}""")).Kind);
    }

    [Fact]
    public void Evaluate_ApprovalAfterTtl_IsExpired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": { "t": { "approval": { "reason": "always" } } } }
            """, time);

        var pending = evaluator.Evaluate(Alice, "t", NoArgs);
        Assert.Equal(ApprovalRule.DefaultTimeToLive, pending.Approval!.TimeToLive);
        evaluator.Approve(pending.Approval);
        time.Advance(TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1));

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(Alice, "t", NoArgs).Kind);
    }

    [Fact]
    public void Evaluate_DenyOutranksApproval()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": { "t": {
              "deny_if": [ { "path": "args.x", "op": "eq", "value": 1 } ],
              "approval": { "reason": "always" } } } }
            """);

        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"x": 1}""")).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(Alice, "t", TestPolicies.Args("""{"x": 2}""")).Kind);
    }

    [Fact]
    public void Evaluate_ApprovalsDoNotSurviveAPolicyChange()
    {
        const string Policy = """{ "version": "2", "default": "deny", "tools": { "t": { "approval": { "reason": "r" } } } }""";
        var evaluator = TestPolicies.Evaluator(Policy);
        var pending = evaluator.Evaluate(Alice, "t", NoArgs);
        evaluator.Approve(pending.Approval!);

        evaluator.Update(PolicyEngine.Policy.Parse(Policy.Replace("\"r\"", "\"changed\"")));

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(Alice, "t", NoArgs).Kind);
    }

    [Fact]
    public async Task Update_ConcurrentWithEvaluation_EveryDecisionUsesOneWholePolicy()
    {
        const string Template = """
            { "version": "2", "default": "deny", "tools": {
              "a": { "action": "deny", "on_deny": "NAME" },
              "b": { "action": "deny", "on_deny": "NAME" } } }
            """;
        var policies = new[] { "first", "second" }.Select(n => PolicyEngine.Policy.Parse(Template.Replace("NAME", n))).ToArray();
        var expected = policies.ToDictionary(p => p.Version, p => p == policies[0] ? "first" : "second");
        var evaluator = new PolicyEvaluator(policies[0]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        var mismatches = 0;

        var updater = Task.Run(
            () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                evaluator.Update(policies[i % 2]);
            }
        },
            TestContext.Current.CancellationToken);
        Parallel.For(0, 4, _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var decision = evaluator.Evaluate(Alice, "a", NoArgs);
                if (expected[decision.PolicyVersion] != decision.Reason)
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        });
        await updater;

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void DecisionMade_AuditEvent_CarriesHashAndNamesButNoValues()
    {
        var evaluator = TestPolicies.Evaluator(Refunds);
        var events = new List<DecisionEvent>();
        evaluator.DecisionMade += (_, e) => events.Add(e);
        var args = TestPolicies.Args("""{"reason": "card-4111111111111111", "amount": 5}""");
        var same = TestPolicies.Args("""{"amount": 5.0, "reason": "card-4111111111111111"}""");

        var decision = evaluator.Evaluate(Alice, "create_refund", args);
        evaluator.Evaluate(Alice, "create_refund", same);

        var audit = events[0];
        Assert.Equal(("alice", "create_refund", DecisionKind.Allow, "/tools/create_refund"), (audit.IdentityId, audit.Tool, audit.Decision.Kind, audit.Decision.Rule));
        Assert.Equal(decision.PolicyVersion, audit.Decision.PolicyVersion);
        Assert.Null(audit.StoreError);
        Assert.Equal(["amount", "reason"], audit.ArgumentNames);
        Assert.Matches("^[0-9a-f]{64}$", audit.ArgumentsSha256);
        Assert.Equal(audit.ArgumentsSha256, events[1].ArgumentsSha256);
        var serialized = JsonSerializer.Serialize(new { audit.IdentityId, audit.Tool, audit.Decision.Rule, audit.Decision.Reason, audit.ArgumentNames, audit.ArgumentsSha256 });
        Assert.DoesNotContain("4111", serialized);
    }

    [Fact]
    public void DecisionMade_ThrowingHandler_DoesNotChangeTheDecision()
    {
        var evaluator = TestPolicies.Evaluator(Refunds);
        evaluator.DecisionMade += (_, _) => throw new InvalidOperationException("audit sink down");

        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "list_customers", NoArgs).Kind);
    }

    [Fact]
    public void Metrics_DecisionsCounter_CountsByKind()
    {
        var evaluator = TestPolicies.Evaluator(Refunds);
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PolicyTelemetry.Name && instrument.Name == PolicyTelemetry.DecisionsCounterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "kind" && evaluatorTag.Value)
                {
                    lock (counts)
                    {
                        counts[(string)tag.Value!] = counts.GetValueOrDefault((string)tag.Value!) + value;
                    }
                }
            }
        });
        listener.Start();

        evaluatorTag.Value = true;
        evaluator.Evaluate(Alice, "list_customers", NoArgs);
        evaluator.Evaluate(Alice, "drop_tables", NoArgs);
        evaluator.Evaluate(Alice, "drop_tables", NoArgs);
        evaluatorTag.Value = false;

        Assert.Equal(1, counts.GetValueOrDefault("allow"));
        Assert.Equal(2, counts.GetValueOrDefault("deny"));
    }

    // Other tests evaluate concurrently on other threads; count only this test's thread.
    private static readonly ThreadLocal<bool> evaluatorTag = new();

    [Fact]
    public void Evaluate_AllowAndDenyWithoutCounters_AllocateNothing()
    {
        var evaluator = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": {
              "ok": { "require": [ { "path": "args.amount", "op": "lte", "value": 50000 },
                                   { "path": "args.currency", "op": "in", "value": ["usd", "eur"] },
                                   { "path": "identity.roles", "op": "contains", "value": "dev" } ],
                      "deny_if": [ { "path": "args.description", "op": "regex", "value": "(?i)test" } ] },
              "no": { "action": "deny" } } }
            """);
        var identity = PolicyIdentity.WithRoles("alice", "dev");
        var args = TestPolicies.Args("""{"amount": 100, "currency": "eur", "description": "a real charge"}""");
        var dictionary = args.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
        var (allocated, allowed) = MeasureRounds(() =>
            (evaluator.Evaluate(identity, "ok", args).IsAllowed ? 1 : 0)
            + (evaluator.Evaluate(identity, "ok", dictionary).IsAllowed ? 1 : 0)
            + (evaluator.Evaluate(identity, "no", args).IsAllowed ? 1 : 0)
            + (evaluator.Evaluate(identity, "unknown", args).IsAllowed ? 1 : 0));

        Assert.Equal(2000, allowed);
        Assert.Equal(0, allocated);
    }

    private const string RoleGated = """
        { "version": "2", "default": "deny",
          "all_tools": { "deny_if": [ { "path": "identity.suspended", "op": "eq", "value": true, "on_deny": "suspended" } ] },
          "tools": {
            "push": { "require": [ { "any": [ { "path": "identity.roles", "op": "contains", "value": "admin" },
                                              { "path": "identity.roles", "op": "contains", "value": "dev" } ],
                                     "on_deny": "developers only" } ] },
            "charge": { "require": [ { "path": "identity.roles", "op": "contains", "value": "dev" },
                                     { "path": "args.amount", "op": "lte", "value": 100 } ] } } }
        """;

    [Fact]
    public void Evaluate_IdentityOnlyChecks_RememberedPerIdentityNotShared()
    {
        var evaluator = TestPolicies.Evaluator(RoleGated);
        var dev = PolicyIdentity.WithRoles("dev-1", "dev");
        var viewer = PolicyIdentity.WithRoles("viewer-1", "viewer");
        var suspended = new PolicyIdentity("dev-2", new Dictionary<string, JsonElement>
        {
            ["roles"] = TestPolicies.Args("""["dev"]"""),
            ["suspended"] = TestPolicies.Args("true"),
        });

        for (var round = 0; round < 3; round++)
        {
            // Interleaved so that a result remembered for one identity (or one entry) would show up for another.
            Assert.True(evaluator.Evaluate(dev, "push", NoArgs).IsAllowed);
            var denied = evaluator.Evaluate(viewer, "push", NoArgs);
            Assert.Equal(("developers only", "/tools/push/require/0"), (denied.Reason, denied.Rule));
            var suspendedPush = evaluator.Evaluate(suspended, "push", NoArgs);
            Assert.Equal(("suspended", "/all_tools/deny_if/0"), (suspendedPush.Reason, suspendedPush.Rule));

            // A check that also reads the arguments is evaluated on every call.
            Assert.True(evaluator.Evaluate(dev, "charge", TestPolicies.Args("""{"amount": 100}""")).IsAllowed);
            Assert.Equal("/tools/charge/require/1", evaluator.Evaluate(dev, "charge", TestPolicies.Args("""{"amount": 101}""")).Rule);
            Assert.Equal("/tools/charge/require/0", evaluator.Evaluate(viewer, "charge", TestPolicies.Args("""{"amount": 1}""")).Rule);
        }
    }

    /// <summary>Identity-only checks and no all_tools: a known caller's decision is settled by the tool lookup itself.</summary>
    private const string RolesOnly = """
        { "version": "2", "default": "deny",
          "tools": {
            "push": { "require": [ { "any": [ { "path": "identity.roles", "op": "contains", "value": "admin" },
                                              { "path": "identity.roles", "op": "contains", "value": "dev" } ],
                                     "on_deny": "developers only" } ] },
            "delete_repo": { "require": [ { "path": "identity.roles", "op": "contains", "value": "admin", "on_deny": "admins only" } ],
                             "deny_if": [ { "path": "identity.frozen", "op": "eq", "value": true, "on_deny": "frozen" } ] },
            "read": {} } }
        """;

    [Fact]
    public void Evaluate_IdentityOnlyChecksRemembered_DecideAsForAFreshIdentity()
    {
        var evaluator = TestPolicies.Evaluator(RolesOnly);
        static PolicyIdentity[] Callers() =>
        [
            PolicyIdentity.WithRoles("a", "admin"),
            PolicyIdentity.WithRoles("d", "dev"),
            PolicyIdentity.WithRoles("v", "viewer"),
            new PolicyIdentity("n"),
            new PolicyIdentity("f", new Dictionary<string, JsonElement> { ["roles"] = TestPolicies.Args("""["admin"]"""), ["frozen"] = TestPolicies.Args("true") }),
        ];

        var kept = Callers();
        string[] tools = ["push", "delete_repo", "read", "unlisted"];
        for (var round = 0; round < 3; round++)
        {
            var fresh = Callers();
            for (var i = 0; i < kept.Length; i++)
            {
                foreach (var tool in tools)
                {
                    // Interleaved callers and tools: a remembered answer must be this caller's, for this entry.
                    var expected = evaluator.Evaluate(fresh[i], tool, NoArgs);
                    var actual = evaluator.Evaluate(kept[i], tool, NoArgs);
                    Assert.Equal((expected.Kind, expected.Rule, expected.Reason), (actual.Kind, actual.Rule, actual.Reason));
                }
            }
        }

        Assert.True(evaluator.Evaluate(kept[1], "push", NoArgs).IsAllowed);
        Assert.Equal(("developers only", "/tools/push/require/0"), (evaluator.Evaluate(kept[2], "push", NoArgs).Reason, evaluator.Evaluate(kept[2], "push", NoArgs).Rule));
        Assert.Equal("frozen", evaluator.Evaluate(kept[4], "delete_repo", NoArgs).Reason);

        // An entry with identity-only checks and a limit is never settled by the memo: a remembered "checks passed"
        // must not skip its counter.
        var limited = TestPolicies.Evaluator("""
            { "version": "2", "default": "deny", "tools": { "deploy": {
              "require": [ { "path": "identity.roles", "op": "contains", "value": "dev" } ],
              "limits": [ { "counter": "deploys", "window": "hour", "max": 1, "scope": "grant" } ] } } }
            """);
        Assert.True(limited.Evaluate(kept[1], "deploy", NoArgs).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, limited.Evaluate(kept[1], "deploy", NoArgs).Kind);
        Assert.Equal(DecisionKind.RateLimited, limited.Evaluate(kept[1], "deploy", new Dictionary<string, JsonElement>()).Kind);
        Assert.Equal(DecisionKind.Deny, limited.Evaluate(kept[2], "deploy", NoArgs).Kind);

        // A remembered allow never settles a call whose arguments are not an object.
        var invalid = evaluator.Evaluate(kept[1], "push", TestPolicies.Args("[1]"));
        Assert.Equal(DecisionKind.Deny, invalid.Kind);
        Assert.Equal(evaluator.Evaluate(PolicyIdentity.WithRoles("d2", "dev"), "push", TestPolicies.Args("[1]")).Rule, invalid.Rule);
    }

    [Fact]
    public void Evaluate_AfterUpdate_IdentityOnlyChecksFollowTheNewPolicy()
    {
        var evaluator = TestPolicies.Evaluator(RoleGated);
        var viewer = PolicyIdentity.WithRoles("viewer-1", "viewer");
        Assert.False(evaluator.Evaluate(viewer, "push", NoArgs).IsAllowed);

        var opened = PolicyEngine.Policy.Parse(RoleGated.Replace("\"value\": \"dev\" } ],", "\"value\": \"viewer\" } ],"));
        evaluator.Update(opened);
        Assert.True(evaluator.Evaluate(viewer, "push", NoArgs).IsAllowed);

        // And back: the memo of the first policy was replaced, not kept.
        evaluator.Update(PolicyEngine.Policy.Parse(RoleGated));
        Assert.False(evaluator.Evaluate(viewer, "push", NoArgs).IsAllowed);

        // The same without all_tools, where a remembered answer settles the call at the tool lookup.
        var rolesOnly = TestPolicies.Evaluator(RolesOnly);
        var dev = PolicyIdentity.WithRoles("dev-1", "dev");
        Assert.True(rolesOnly.Evaluate(dev, "push", NoArgs).IsAllowed);
        rolesOnly.Update(PolicyEngine.Policy.Parse(RolesOnly.Replace("\"value\": \"dev\" } ],", "\"value\": \"maintainer\" } ],")));
        Assert.Equal("developers only", rolesOnly.Evaluate(dev, "push", NoArgs).Reason);

        // One identity shared by two evaluators on different policies gets each policy's answer.
        var other = TestPolicies.Evaluator(opened.Document.ToJson());
        for (var i = 0; i < 3; i++)
        {
            Assert.False(evaluator.Evaluate(viewer, "push", NoArgs).IsAllowed);
            Assert.True(other.Evaluate(viewer, "push", NoArgs).IsAllowed);
        }
    }

    [Fact]
    public void Evaluate_OneIdentityUnderTwoPolicies_AllocatesNothingOnceWarm()
    {
        // Two evaluators (or a hot reload in progress) sharing identities: the identity remembers both policies' answers.
        var first = TestPolicies.Evaluator(RoleGated);
        var second = TestPolicies.Evaluator(RoleGated.Replace("\"value\": \"dev\" } ],", "\"value\": \"viewer\" } ],"));
        var viewer = PolicyIdentity.WithRoles("viewer-1", "viewer");
        var (allocated, allowed) = MeasureRounds(() =>
            (first.Evaluate(viewer, "push", NoArgs).IsAllowed ? 1 : 0) + (second.Evaluate(viewer, "push", NoArgs).IsAllowed ? 10_000 : 0));

        Assert.Equal(1000 * 10_000, allowed);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Evaluate_AdmittedAndRateLimitedCallsWithCompletion_AllocateNothingOnceWarm()
    {
        // The seed's shape on the real clock: a grant-scoped limit, hosts completing every allowed call, most callers
        // already limited. Every identity's counter exists after the warm-up; the measured rounds admit and refuse.
        var evaluator = new PolicyEvaluator(PolicyEngine.Policy.Parse("""
            { "version": "2", "default": "deny", "tools": { "execute_python_code": {
              "limits": [ { "counter": "runs", "window": "hour", "max": 1000000, "scope": "grant" } ] },
              "send": { "limits": [ { "counter": "sends", "window": "hour", "max": 1, "scope": "grant" } ] } } }
            """));
        var callers = Enumerable.Range(0, 50).Select(i => new PolicyIdentity("user-" + i)).ToArray();
        var next = 0;
        var (allocated, sum) = MeasureRounds(() =>
        {
            var caller = callers[next++ % callers.Length];
            var admitted = evaluator.Evaluate(caller, "execute_python_code", NoArgs);
            evaluator.Complete(admitted, succeeded: true);
            var limited = evaluator.Evaluate(caller, "send", NoArgs);
            evaluator.Complete(limited, succeeded: true);
            return (admitted.IsAllowed ? 1 : 0) + (limited.Kind == DecisionKind.RateLimited ? 1000 : 0);
        });

        Assert.Equal(1000 * 1001, sum);
        Assert.Equal(0, allocated);
    }

    /// <summary>
    /// Runs <paramref name="round"/> 100 times to warm up, then 1,000 times measured: the bytes this thread allocated
    /// meanwhile and the sum of what the measured rounds returned.
    /// </summary>
    private static (long Allocated, int Sum) MeasureRounds(Func<int> round)
    {
        for (var i = 0; i < 100; i++)
        {
            round();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var sum = 0;
        for (var i = 0; i < 1000; i++)
        {
            sum += round();
        }

        return (GC.GetAllocatedBytesForCurrentThread() - before, sum);
    }
}
