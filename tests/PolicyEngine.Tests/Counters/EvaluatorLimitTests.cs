using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Counters;

public class EvaluatorLimitTests
{
    /// <summary>20.25 s into a UTC minute.</summary>
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    private static readonly PolicyIdentity Alice = new("alice");
    private static readonly PolicyIdentity Bob = new("bob");

    /// <summary>JSON written with single quotes for readability.</summary>
    private static string J(string text) => text.Replace('\'', '"');

    private static Policy P(string json) => Policy.Parse(J(json));

    private static JsonElement Args(string json = "{}")
    {
        using var document = JsonDocument.Parse(J(json));
        return document.RootElement.Clone();
    }

    private static (PolicyEvaluator Evaluator, FakeTimeProvider Time) Create(string policyJson, ICounterStore? store = null, PolicyEvaluatorOptions? options = null)
    {
        var time = new FakeTimeProvider(Start);
        return (new PolicyEvaluator(P(policyJson), store, null, time, options), time);
    }

    private static string OneLimit(string limitJson, string tool = "t") =>
        $"{{'version':'2','default':'deny','tools':{{'{tool}':{{'limits':[{limitJson}]}}}}}}";

    private static int CountAllowed(PolicyEvaluator evaluator, PolicyIdentity identity, string tool, JsonElement args, int tries = 100)
    {
        var allowed = 0;
        for (var i = 0; i < tries; i++)
        {
            if (evaluator.Evaluate(identity, tool, args).IsAllowed)
            {
                allowed++;
            }
        }

        return allowed;
    }

    // ------------------------------------------------------------------ admission and retry-after

    [Fact]
    public void Evaluate_LimitOfN_AdmitsNThenRateLimitedWithPointerAndExactRetryAfter()
    {
        var (evaluator, time) = Create("{'version':'1','default':'deny','tools':{'create_refund':{'limits':[{'counter':'refunds_per_minute','window':'minute','max':3,'scope':'grant'}]}}}");
        for (var i = 0; i < 3; i++)
        {
            var allowed = evaluator.Evaluate(Alice, "create_refund", Args());
            Assert.Equal(DecisionKind.Allow, allowed.Kind);
            Assert.NotNull(allowed.Reservation);
        }

        var limited = evaluator.Evaluate(Alice, "create_refund", Args());
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/tools/create_refund/limits/0", limited.Rule);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), limited.RetryAfter);
        Assert.False(string.IsNullOrEmpty(limited.Reason));
        Assert.Null(limited.Reservation);

        time.Advance(TimeSpan.FromMilliseconds(39_749));
        Assert.Equal(TimeSpan.FromMilliseconds(1), evaluator.Evaluate(Alice, "create_refund", Args()).RetryAfter);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(3, CountAllowed(evaluator, Alice, "create_refund", Args()));
    }

    [Fact]
    public void Evaluate_LimitWithOnDeny_ReportsItsReason()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'hour','max':1,'on_deny':'one per hour, please'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args()).IsAllowed);
        var limited = evaluator.Evaluate(Alice, "t", Args());
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("one per hour, please", limited.Reason);
        Assert.Equal(new DateTimeOffset(2026, 3, 14, 11, 0, 0, TimeSpan.Zero) - Start, limited.RetryAfter);
    }

    [Fact]
    public void Evaluate_AllToolsLimit_ReportsItsPointer()
    {
        var (evaluator, _) = Create("{'version':'2','default':'allow','all_tools':{'limits':[{'counter':'c','window':'30s','max':2}]}}");
        Assert.True(evaluator.Evaluate(Alice, "x", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "y", Args()).IsAllowed);
        var limited = evaluator.Evaluate(Alice, "z", Args());
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/all_tools/limits/0", limited.Rule);
        Assert.Equal(TimeSpan.FromMilliseconds(9_750), limited.RetryAfter);
    }

    [Fact]
    public void Evaluate_SlidingLimit_AdmittedAfterWaitingRetryAfter()
    {
        var (evaluator, time) = Create(OneLimit("{'counter':'c','window':'10s','max':2,'algorithm':'sliding'}"));
        for (var round = 0; round < 5; round++)
        {
            while (evaluator.Evaluate(Alice, "t", Args()).IsAllowed)
            {
                time.Advance(TimeSpan.FromMilliseconds(700));
            }

            var limited = evaluator.Evaluate(Alice, "t", Args());
            Assert.Equal(DecisionKind.RateLimited, limited.Kind);
            Assert.InRange(limited.RetryAfter!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(11));
            time.Advance(limited.RetryAfter.Value);
            Assert.True(evaluator.Evaluate(Alice, "t", Args()).IsAllowed, $"round {round}: refused after waiting {limited.RetryAfter}");
        }
    }

    [Fact]
    public async Task Evaluate_SlidingCallersReachingTheStoreOutOfOrder_AdmitAtMostMax()
    {
        // Issue 11: three callers read the clock at +59.990 s, +59.995 s and +60.010 s (a bucket boundary of a sliding
        // minute); the one that read +60.010 s reaches the store first, then the two earlier ones.
        var minute = new DateTimeOffset(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(minute.AddMilliseconds(59_990));
        var store = new GatedStore(new InMemoryCounterStore());
        var evaluator = new PolicyEvaluator(
            P("{'version':'2','default':'deny','tools':{'t':{'limits':[{'counter':'s','window':'minute','max':2,'scope':'global','algorithm':'sliding'}]}}}"),
            store,
            null,
            time);

        var (earliest, earliestGate) = store.EvaluateHeld(() => evaluator.Evaluate(Alice, "t", Args()));
        time.SetUtcNow(minute.AddMilliseconds(59_995));
        var (middle, middleGate) = store.EvaluateHeld(() => evaluator.Evaluate(Bob, "t", Args()));
        time.SetUtcNow(minute.AddMilliseconds(60_010));
        var newest = evaluator.Evaluate(Alice, "t", Args());

        earliestGate.Set();
        var first = await earliest.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        middleGate.Set();
        var second = await middle.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(
            [minute.AddMilliseconds(59_990), minute.AddMilliseconds(59_995), minute.AddMilliseconds(60_010)],
            store.Stamps.Order());
        Assert.Equal(DecisionKind.Allow, newest.Kind);
        Assert.Equal(DecisionKind.Allow, first.Kind);
        Assert.Equal(DecisionKind.RateLimited, second.Kind);
        Assert.Equal("/tools/t/limits/0", second.Rule);

        // Never optimistic: the +59.990 s charge (bucket +54 s) stops counting at +120 s.
        Assert.Equal(minute.AddMinutes(2) - minute.AddMilliseconds(59_995), second.RetryAfter);
        time.SetUtcNow(minute.AddMinutes(2));
        Assert.True(evaluator.Evaluate(Bob, "t", Args()).IsAllowed);
        Assert.False(evaluator.Evaluate(Bob, "t", Args()).IsAllowed);
    }

    [Fact]
    public async Task EvaluateAsync_LimitOfN_BehavesLikeEvaluate()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':2}"));
        var ct = TestContext.Current.CancellationToken;
        Assert.True((await evaluator.EvaluateAsync(Alice, "t", Args(), ct)).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args()).IsAllowed);
        var limited = await evaluator.EvaluateAsync(Alice, "t", Args(), ct);
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), limited.RetryAfter);
    }

    // ------------------------------------------------------------------ no quota for calls that do not run

    [Fact]
    public void Evaluate_DeniedCalls_ConsumeNoQuota()
    {
        var (evaluator, _) = Create(J(
            "{'version':'2','default':'deny','hide':['hidden'],"
            + "'all_tools':{'limits':[{'counter':'all','window':'minute','max':2,'scope':'global'}]},"
            + "'tools':{'t':{'require':[{'path':'args.ok','op':'eq','value':true}],"
            + "'deny_if':[{'path':'args.bad','op':'exists','value':true}],"
            + "'limits':[{'counter':'c','window':'minute','max':2}]},"
            + "'hidden':{}}}"));
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "t", Args("{'ok':false}")).Kind);
            Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "t", Args("{'ok':true,'bad':1}")).Kind);
            Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "hidden", Args()).Kind);
            Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "unlisted", Args()).Kind);
            Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "t", Args("[1]")).Kind);
        }

        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args("{'ok':true}")));
    }

    [Fact]
    public void Evaluate_RateLimitedByOneLimit_ConsumesNothingOfTheOthers()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny',"
            + "'all_tools':{'limits':[{'counter':'per_customer','window':'minute','max':2,'scope':'args.customer'}]},"
            + "'tools':{'t':{'limits':[{'counter':'per_grant','window':'minute','max':3}]}}}");
        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args("{'customer':'c1'}"), 10));
        var limited = evaluator.Evaluate(Alice, "t", Args("{'customer':'c1'}"));
        Assert.Equal("/all_tools/limits/0", limited.Rule);

        // per_grant holds 2, not 10: one more call fits.
        Assert.Equal(1, CountAllowed(evaluator, Alice, "t", Args("{'customer':'c2'}"), 10));
        Assert.Equal("/tools/t/limits/0", evaluator.Evaluate(Alice, "t", Args("{'customer':'c3'}")).Rule);
    }

    [Fact]
    public void Evaluate_NeedsApprovalButRateLimited_ReportsRateLimitedAndConsumesNoQuota()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','tools':{'t':{"
            + "'approval':{'reason':'a person must approve'},"
            + "'limits':[{'counter':'c','window':'minute','max':1}]}}}");

        // Pending approvals consume no quota.
        Decision pending = evaluator.Evaluate(Alice, "t", Args("{'n':1}"));
        for (var i = 0; i < 5; i++)
        {
            pending = evaluator.Evaluate(Alice, "t", Args("{'n':1}"));
            Assert.Equal(DecisionKind.NeedsApproval, pending.Kind);
        }

        evaluator.Approve(pending.Approval!);
        var allowed = evaluator.Evaluate(Alice, "t", Args("{'n':1}"));
        Assert.Equal(DecisionKind.Allow, allowed.Kind);

        var limited = evaluator.Evaluate(Alice, "t", Args("{'n':2}"));
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/tools/t/limits/0", limited.Rule);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), limited.RetryAfter);
    }

    [Fact]
    public void Evaluate_ApprovedButRateLimited_KeepsTheApprovalForTheNextWindow()
    {
        var (evaluator, time) = Create(
            "{'version':'2','default':'deny','tools':{'t':{"
            + "'approval':{'when':[{'path':'args.big','op':'eq','value':true}],'reason':'big'},"
            + "'limits':[{'counter':'c','window':'minute','max':1}]}}}");
        var pending = evaluator.Evaluate(Alice, "t", Args("{'big':true}"));
        Assert.Equal(DecisionKind.NeedsApproval, pending.Kind);
        evaluator.Approve(pending.Approval!);

        // Another call takes the quota between the approval and the retry.
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'big':false}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'big':true}")).Kind);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "t", Args("{'big':true}")).Kind);
    }

    // ------------------------------------------------------------------ Complete

    [Fact]
    public void Complete_Failed_ReturnsTheQuotaExactlyOnce()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':2}"));
        var first = evaluator.Evaluate(Alice, "t", Args());
        var second = evaluator.Evaluate(Alice, "t", Args());
        Assert.True(first.IsAllowed && second.IsAllowed);

        evaluator.Complete(first, succeeded: false);
        evaluator.Complete(first, succeeded: false);
        evaluator.Complete(first, succeeded: true);
        Assert.Null(first.Reservation);
        Assert.Equal(1, CountAllowed(evaluator, Alice, "t", Args(), 10));
    }

    [Fact]
    public void Complete_SucceededThenFailed_ReturnsNothing()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1}"));
        var decision = evaluator.Evaluate(Alice, "t", Args());
        evaluator.Complete(decision, succeeded: true);
        evaluator.Complete(decision, succeeded: false);
        Assert.Equal(0, CountAllowed(evaluator, Alice, "t", Args(), 5));
    }

    [Fact]
    public async Task Complete_ConcurrentRollbacksOfOneDecision_ReturnTheQuotaOnce()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':3}"));
        var decisions = new[] { evaluator.Evaluate(Alice, "t", Args()), evaluator.Evaluate(Alice, "t", Args()), evaluator.Evaluate(Alice, "t", Args()) };
        var tasks = new List<Task>();
        for (var i = 0; i < 16; i++)
        {
            var async = i % 2 == 0;
            tasks.Add(Task.Run(
                async () =>
                {
                    if (async)
                    {
                        await evaluator.CompleteAsync(decisions[0], succeeded: false);
                    }
                    else
                    {
                        evaluator.Complete(decisions[0], succeeded: false);
                    }
                },
                TestContext.Current.CancellationToken));
        }

        await Task.WhenAll(tasks);
        Assert.Equal(1, CountAllowed(evaluator, Alice, "t", Args(), 10));
    }

    [Fact]
    public void Complete_FailedAfterTheWindowEnded_NeverReturnsToTheLaterWindow()
    {
        var (evaluator, time) = Create(OneLimit("{'counter':'c','window':'minute','max':1}"));
        var old = evaluator.Evaluate(Alice, "t", Args());
        Assert.True(old.IsAllowed);

        time.SetUtcNow(new DateTimeOffset(2026, 3, 14, 10, 1, 5, TimeSpan.Zero));
        Assert.True(evaluator.Evaluate(Alice, "t", Args()).IsAllowed);
        evaluator.Complete(old, succeeded: false);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args()).Kind);
    }

    [Fact]
    public async Task CompleteAsync_Failed_ReturnsEveryCounterOfTheDecision()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','all_tools':{'limits':[{'counter':'all','window':'day','max':2,'scope':'global'}]},"
            + "'tools':{'t':{'limits':[{'counter':'c','window':'hour','max':1,'cost':1}]}}}");
        var decision = await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken);
        Assert.Equal(2, decision.Reservation!.Charges.Count);
        await evaluator.CompleteAsync(decision, succeeded: false, TestContext.Current.CancellationToken);
        Assert.Equal(1, CountAllowed(evaluator, Alice, "t", Args(), 10));
        Assert.Equal(1, CountAllowed(evaluator, Bob, "t", Args(), 10));
        Assert.Equal(0, CountAllowed(evaluator, new PolicyIdentity("carol"), "t", Args(), 10));
    }

    [Fact]
    public void Complete_DecisionWithoutReservation_DoesNothing()
    {
        var (evaluator, _) = Create("{'version':'2','default':'allow'}");
        var decision = evaluator.Evaluate(Alice, "t", Args());
        Assert.True(decision.IsAllowed);
        Assert.Null(decision.Reservation);
        evaluator.Complete(decision, succeeded: false);
    }

    // ------------------------------------------------------------------ scopes and keys

    [Fact]
    public void Evaluate_GrantScope_CountsEachIdentitySeparately()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':2,'scope':'grant'}"));
        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args(), 5));
        Assert.Equal(2, CountAllowed(evaluator, Bob, "t", Args(), 5));
        Assert.Equal(2, CountAllowed(evaluator, new PolicyIdentity("ALICE"), "t", Args(), 5));

        // The counter follows the id alone, not the other attributes.
        var aliceWithRoles = new PolicyIdentity("alice", new Dictionary<string, JsonElement> { ["roles"] = Args("['x']") });
        Assert.Equal(0, CountAllowed(evaluator, aliceWithRoles, "t", Args(), 5));
    }

    [Fact]
    public void Evaluate_GlobalScope_IsSharedByEveryIdentityAndTool()
    {
        var (evaluator, _) = Create("{'version':'2','default':'allow','all_tools':{'limits':[{'counter':'c','window':'minute','max':3,'scope':'global'}]}}");
        Assert.True(evaluator.Evaluate(Alice, "x", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(Bob, "y", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(new PolicyIdentity("carol"), "z", Args()).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity("dave"), "w", Args()).Kind);
    }

    [Fact]
    public void Evaluate_ToolScope_CountsEachToolSeparatelyAcrossIdentities()
    {
        var (evaluator, _) = Create("{'version':'2','default':'allow','all_tools':{'limits':[{'counter':'c','window':'minute','max':2,'scope':'tool'}]}}");
        Assert.True(evaluator.Evaluate(Alice, "x", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(Bob, "x", Args()).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity("carol"), "x", Args()).Kind);
        Assert.Equal(2, CountAllowed(evaluator, Alice, "y", Args(), 5));
        Assert.Equal(2, CountAllowed(evaluator, Alice, "x:", Args(), 5));
        Assert.Equal(2, CountAllowed(evaluator, Alice, "", Args(), 5));
    }

    [Fact]
    public void Evaluate_ArgumentScope_IsSharedByIdentitiesAndKeyedByValue()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':2,'scope':'args.customer'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'customer':'c1'}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Bob, "t", new Dictionary<string, JsonElement> { ["customer"] = Args("'c1'") }).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity("carol"), "t", Args("{'customer':'c1','other':1}")).Kind);
        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args("{'customer':'c2'}"), 5));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{'customer':null}")]
    [InlineData("{'Customer':'c1'}")]
    [InlineData("{'customer_id':'c1'}")]
    public void Evaluate_ArgumentScopeMissing_DeniesWithTheLimitPointer(string args)
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':2,'scope':'args.customer'}"));
        var denied = evaluator.Evaluate(Alice, "t", Args(args));
        Assert.Equal(DecisionKind.Deny, denied.Kind);
        Assert.Equal("/tools/t/limits/0", denied.Rule);
        Assert.Contains("customer", denied.Reason, StringComparison.Ordinal);
        Assert.Null(denied.Reservation);
    }

    [Fact]
    public void Evaluate_NestedArgumentScope_KeysByTheNestedValue()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1,'scope':'args.account.id'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'account':{'id':'a1'}}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'account':{'id':'a2'}}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Bob, "t", Args("{'account':{'id':'a1','x':1}}")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Bob, "t", Args("{'account':'a1'}")).Kind);
    }

    public static TheoryData<string, string> DistinctIdentities => new()
    {
        { "a:b", "a" },
        { "a", "a:" },
        { "", " " },
        { "", "g" },
        { "1:a", "a" },
        { "a|60000f|1:b", "a" },
        { "caf\u00E9", "cafe\u0301" },
        { "\u212B", "\u00C5" },
        { "Alice", "alice" },
        { "a\0", "a" },
        { new string('x', 10_000), new string('x', 10_001) },
        { "\uD83D\uDE00", "\uD83D\uDE01" },
        { "*", "t" },
    };

    [Theory]
    [MemberData(nameof(DistinctIdentities))]
    public void Evaluate_DifferentIdentities_NeverShareAGrantCounter(string first, string second)
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1}"));
        Assert.True(evaluator.Evaluate(new PolicyIdentity(first), "t", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(new PolicyIdentity(second), "t", Args()).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity(first), "t", Args()).Kind);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity(second), "t", Args()).Kind);
    }

    public static TheoryData<string, string> DistinctArgumentValues => new()
    {
        { "'a:b'", "'a'" },
        { "''", "' '" },
        { "'5'", "5" },
        { "'true'", "true" },
        { "'null'", "'nul'" },
        { "'[1]'", "[1]" },
        { "'{}'", "{}" },
        { "'caf\u00E9'", "'cafe\u0301'" },
        { "'s5'", "'5'" },
        { "'j5'", "5" },
        { "1", "2" },
        { "[1,2]", "[2,1]" },
        { "{'a':1}", "{'a':'1'}" },
        { "'" + new string('v', 5_000) + "'", "'" + new string('v', 5_001) + "'" },
    };

    [Theory]
    [MemberData(nameof(DistinctArgumentValues))]
    public void Evaluate_DifferentArgumentValues_NeverShareACounter(string first, string second)
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1,'scope':'args.customer'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'customer':" + first + "}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'customer':" + second + "}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'customer':" + first + "}")).Kind);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'customer':" + second + "}")).Kind);
    }

    [Theory]
    [InlineData("{'a':1,'b':2}", "{'b':2,'a':1}")]
    [InlineData("100", "1e2")]
    [InlineData("100", "100.0")]
    [InlineData("'\\u0041'", "'A'")]
    public void Evaluate_EqualArgumentValues_ShareACounter(string first, string second)
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1,'scope':'args.customer'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'customer':" + first + "}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Bob, "t", Args("{'customer':" + second + "}")).Kind);
    }

    [Fact]
    public void Evaluate_DifferentCountersAndWindows_NeverShareCounts()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','tools':{"
            + "'a':{'limits':[{'counter':'x','window':'minute','max':1}]},"
            + "'b':{'limits':[{'counter':'x:','window':'minute','max':1}]},"
            + "'c':{'limits':[{'counter':'y','window':'60s','max':1,'algorithm':'sliding'}]},"
            + "'d':{'limits':[{'counter':'y2','window':'1m','max':1}]}}}");
        foreach (var tool in new[] { "a", "b", "c", "d" })
        {
            Assert.True(evaluator.Evaluate(Alice, tool, Args()).IsAllowed, tool);
        }

        foreach (var tool in new[] { "a", "b", "c", "d" })
        {
            Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, tool, Args()).Kind);
        }
    }

    [Fact]
    public void Evaluate_TwoToolsNamingTheSameCounter_ShareIt()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','tools':{"
            + "'a':{'limits':[{'counter':'shared','window':'minute','max':2}]},"
            + "'b':{'limits':[{'counter':'shared','window':'minute','max':2}]}}}");
        Assert.True(evaluator.Evaluate(Alice, "a", Args()).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "b", Args()).IsAllowed);
        var limited = evaluator.Evaluate(Alice, "a", Args());
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/tools/a/limits/0", limited.Rule);
    }

    // ------------------------------------------------------------------ cost and cost_from

    [Fact]
    public void Evaluate_Cost_ChargesThatMuchPerCall()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':10,'cost':3}"));
        Assert.Equal(3, CountAllowed(evaluator, Alice, "t", Args(), 10));
    }

    [Fact]
    public void Evaluate_CostAboveMax_DeniesAsNeverAdmissible()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':3,'cost':5}"));
        var denied = evaluator.Evaluate(Alice, "t", Args());
        Assert.Equal(DecisionKind.Deny, denied.Kind);
        Assert.Equal("/tools/t/limits/0", denied.Rule);
        Assert.Contains("never", denied.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_CostFrom_ChargesTheArgumentAmount()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'cents','window':'day','max':1000,'cost_from':'args.amount','on_deny':'daily spend reached'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':600}")).IsAllowed);
        var limited = evaluator.Evaluate(Alice, "t", Args("{'amount':401}"));
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("daily spend reached", limited.Reason);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':0}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':400}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':0}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'amount':1}")).Kind);
    }

    [Theory]
    [InlineData("1e2")]
    [InlineData("100.0")]
    [InlineData("1.00e2")]
    public void Evaluate_CostFromWholeNumberInOtherNotation_ChargesItsValue(string amount)
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'cents','window':'day','max':1000,'cost_from':'args.amount'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':" + amount + "}")).IsAllowed);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':900}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'amount':1}")).Kind);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{'amount':null}")]
    [InlineData("{'amount':-1}")]
    [InlineData("{'amount':-0.5}")]
    [InlineData("{'amount':1.5}")]
    [InlineData("{'amount':0.1}")]
    [InlineData("{'amount':'100'}")]
    [InlineData("{'amount':''}")]
    [InlineData("{'amount':true}")]
    [InlineData("{'amount':[100]}")]
    [InlineData("{'amount':{'value':100}}")]
    [InlineData("{'amount':1e30}")]
    [InlineData("{'amount':1e400}")]
    [InlineData("{'amount':-1e400}")]
    [InlineData("{'amount':9223372036854775808}")]
    [InlineData("{'amount':-9223372036854775809}")]
    [InlineData("{'amount':100.000000000000000000001}")]
    public void Evaluate_CostFromBadAmount_DeniesWithAReasonAndChangesNoCounter(string args)
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','all_tools':{'limits':[{'counter':'calls','window':'day','max':1,'scope':'global'}]},"
            + "'tools':{'t':{'limits':[{'counter':'cents','window':'day','max':1000,'cost_from':'args.amount'}]}}}");
        for (var i = 0; i < 3; i++)
        {
            var denied = evaluator.Evaluate(Alice, "t", Args(args));
            Assert.Equal(DecisionKind.Deny, denied.Kind);
            Assert.Equal("/tools/t/limits/0", denied.Rule);
            Assert.Contains("amount", denied.Reason, StringComparison.Ordinal);
            Assert.Null(denied.Reservation);
        }

        // Neither counter moved: the full 1000 and the one call are still there.
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':1000}")).IsAllowed);
    }

    [Fact]
    public void Evaluate_CostFromAboveMax_DeniesAsNeverAdmissible()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'cents','window':'day','max':1000,'cost_from':'args.amount'}"));
        var denied = evaluator.Evaluate(Alice, "t", Args("{'amount':1001}"));
        Assert.Equal(DecisionKind.Deny, denied.Kind);
        Assert.Equal("/tools/t/limits/0", denied.Rule);
        Assert.Contains("never", denied.Reason, StringComparison.Ordinal);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "t", Args("{'amount':9223372036854775807}")).Kind);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':1000}")).IsAllowed);
    }

    [Fact]
    public void Evaluate_CostFromNearLongMaxValue_IsExact()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'big','window':'day','max':9223372036854775807,'cost_from':'args.amount'}"));
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':9223372036854775806}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'amount':2}")).Kind);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':1}")).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(Alice, "t", Args("{'amount':1}")).Kind);
        Assert.True(evaluator.Evaluate(Alice, "t", Args("{'amount':0}")).IsAllowed);
    }

    // ------------------------------------------------------------------ atomic tool + all_tools

    [Fact]
    public void Evaluate_ToolAndAllToolsLimits_AreReservedAtomically()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'allow','all_tools':{'limits':[{'counter':'all','window':'minute','max':10,'scope':'global'}]},"
            + "'tools':{'t':{'limits':[{'counter':'own','window':'minute','max':1}]}}}");
        var allowed = evaluator.Evaluate(Alice, "t", Args());
        Assert.True(allowed.IsAllowed);
        Assert.Equal(2, allowed.Reservation!.Charges.Count);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("/tools/t/limits/0", evaluator.Evaluate(Alice, "t", Args()).Rule);
        }

        // The refused calls charged nothing to "all": 9 of 10 are left.
        Assert.Equal(9, CountAllowed(evaluator, Alice, "u", Args(), 20));
        Assert.Equal("/all_tools/limits/0", evaluator.Evaluate(Bob, "t", Args()).Rule);

        // And a call refused by "all" charged nothing to Bob's own counter.
        evaluator.Complete(allowed, succeeded: false);
        Assert.True(evaluator.Evaluate(Bob, "t", Args()).IsAllowed);
    }

    // ------------------------------------------------------------------ hot reload

    [Fact]
    public void Update_NewPolicy_CountersKeepTheirValues()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':3}"));
        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args(), 2));

        // A different document (another tool, a deny_if that does not apply) with the same counter.
        evaluator.Update(P(
            "{'version':'2','default':'deny','tools':{'other':{},'t':{'deny_if':[{'path':'args.x','op':'eq','value':1}],"
            + "'limits':[{'counter':'c','window':'minute','max':3}]}}}"));
        Assert.Equal(1, CountAllowed(evaluator, Alice, "t", Args(), 5));

        // Raising max lets exactly the difference through.
        evaluator.Update(P(OneLimit("{'counter':'c','window':'minute','max':5}")));
        Assert.Equal(2, CountAllowed(evaluator, Alice, "t", Args(), 5));
    }

    [Fact]
    public void Complete_AfterUpdate_ReturnsTheQuotaToTheSameCounter()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':1}"));
        var decision = evaluator.Evaluate(Alice, "t", Args());
        evaluator.Update(P(OneLimit("{'counter':'c','window':'minute','max':1,'on_deny':'slow down'}")));
        Assert.Equal("slow down", evaluator.Evaluate(Alice, "t", Args()).Reason);
        evaluator.Complete(decision, succeeded: false);
        Assert.True(evaluator.Evaluate(Alice, "t", Args()).IsAllowed);
    }

    // ------------------------------------------------------------------ store faults

    private const string LimitedPolicy = "{'version':'2','default':'deny','tools':{'t':{'limits':[{'counter':'c','window':'minute','max':5}]},'free':{}}}";

    [Fact]
    public async Task Evaluate_ThrowingStore_DeniesWithStoreUnavailable()
    {
        var (evaluator, _) = Create(LimitedPolicy, new ThrowingStore());
        var decision = evaluator.Evaluate(Alice, "t", Args());
        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal("(store unavailable)", decision.Rule);
        Assert.False(decision.IsUnenforced);

        var asyncDecision = await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken);
        Assert.Equal(DecisionKind.Deny, asyncDecision.Kind);
        Assert.Equal("(store unavailable)", asyncDecision.Rule);

        // A call without limits never touches the store.
        Assert.True(evaluator.Evaluate(Alice, "free", Args()).IsAllowed);
    }

    [Fact]
    public async Task Evaluate_ThrowingStoreUnderFailOpen_AllowsMarkedUnenforced()
    {
        var (evaluator, _) = Create(LimitedPolicy, new ThrowingStore(), new PolicyEvaluatorOptions { StoreFailureMode = StoreFailureMode.FailOpen });
        var decision = evaluator.Evaluate(Alice, "t", Args());
        Assert.Equal(DecisionKind.Allow, decision.Kind);
        Assert.True(decision.IsUnenforced);
        Assert.Null(decision.Reservation);
        evaluator.Complete(decision, succeeded: false);

        var asyncDecision = await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken);
        Assert.Equal(DecisionKind.Allow, asyncDecision.Kind);
        Assert.True(asyncDecision.IsUnenforced);
        Assert.False(evaluator.Evaluate(Alice, "free", Args()).IsUnenforced);
    }

    [Fact]
    public async Task Evaluate_StoreFailingOnlyOnPeek_DeniesAnApprovalCall()
    {
        var (evaluator, _) = Create(
            "{'version':'2','default':'deny','tools':{'t':{'approval':{'reason':'r'},'limits':[{'counter':'c','window':'minute','max':5}]}}}",
            new ThrowingStore());
        Assert.Equal("(store unavailable)", evaluator.Evaluate(Alice, "t", Args()).Rule);
        Assert.Equal("(store unavailable)", (await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken)).Rule);
    }

    [Fact]
    public async Task Complete_ThrowingRelease_NeverThrows()
    {
        var store = new ThrowingStore { FailReserve = false };
        var (evaluator, _) = Create(LimitedPolicy, store);
        var decision = evaluator.Evaluate(Alice, "t", Args());
        Assert.True(decision.IsAllowed);
        evaluator.Complete(decision, succeeded: false);
        var second = evaluator.Evaluate(Alice, "t", Args());
        await evaluator.CompleteAsync(second, succeeded: false, TestContext.Current.CancellationToken);
        Assert.Equal(2, store.ReleaseCalls);
    }

    [Fact]
    public async Task EvaluateAsync_HangingStore_StoreTimeoutBoundsTheWait()
    {
        var store = new HangingStore(honourCancellation: true);
        var (evaluator, _) = Create(LimitedPolicy, store, new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromMilliseconds(100) });
        var decision = await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal("(store unavailable)", decision.Rule);

        var (openEvaluator, _) = Create(LimitedPolicy, store, new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromMilliseconds(100), StoreFailureMode = StoreFailureMode.FailOpen });
        var open = await openEvaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.True(open.IsAllowed);
        Assert.True(open.IsUnenforced);
    }

    [Fact]
    public async Task EvaluateAsync_CallerCancels_FollowsTheFailureModeWithoutThrowing()
    {
        var (evaluator, _) = Create(LimitedPolicy, new HangingStore(honourCancellation: true), new PolicyEvaluatorOptions { StoreTimeout = Timeout.InfiniteTimeSpan });
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var decision = await evaluator.EvaluateAsync(Alice, "t", Args(), cancellation.Token).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal("(store unavailable)", decision.Rule);
    }

    [Fact]
    public async Task EvaluateAsync_StoreIgnoringCancellation_StoreTimeoutStillBoundsTheWait()
    {
        var (evaluator, _) = Create(LimitedPolicy, new HangingStore(honourCancellation: false), new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromMilliseconds(100) });
        var decision = await evaluator.EvaluateAsync(Alice, "t", Args(), TestContext.Current.CancellationToken).AsTask()
            .WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal("(store unavailable)", decision.Rule);
    }

    // ------------------------------------------------------------------ concurrency

    [Property(MaxTest = 25)]
    public Property Evaluate_LimitOfN_AdmitsExactlyNUnderConcurrency()
    {
        var cases =
            from max in Gen.Choose(1, 60)
            from extra in Gen.Choose(0, 150)
            from sliding in Gen.Elements(false, true)
            select (max, extra, sliding);
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var algorithm = c.sliding ? ",'algorithm':'sliding'" : string.Empty;
            var (evaluator, _) = Create(
                "{'version':'2','default':'deny','all_tools':{'limits':[{'counter':'g','window':'hour','max':1000000,'scope':'global'}]},"
                + $"'tools':{{'t':{{'limits':[{{'counter':'c','window':'minute','max':{c.max}{algorithm}}}]}}}}}}");
            var args = Args("{'n':1}");
            var allowed = 0;
            var limited = 0;
            Parallel.For(0, c.max + c.extra, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
            {
                var decision = evaluator.Evaluate(Alice, "t", args);
                if (decision.IsAllowed)
                {
                    Interlocked.Increment(ref allowed);
                }
                else if (decision.Kind == DecisionKind.RateLimited)
                {
                    Interlocked.Increment(ref limited);
                }
            });

            Assert.Equal(c.max, allowed);
            Assert.Equal(c.extra, limited);
        });
    }

    [Fact]
    public async Task EvaluateAsync_LimitOfN_AdmitsExactlyNUnderConcurrencyWithRollbacks()
    {
        var (evaluator, _) = Create(OneLimit("{'counter':'c','window':'minute','max':40}"));
        var kept = 0;
        var tasks = new Task[8];
        for (var w = 0; w < tasks.Length; w++)
        {
            var worker = w;
            tasks[w] = Task.Run(
                async () =>
                {
                    for (var i = 0; i < 50; i++)
                    {
                        var decision = await evaluator.EvaluateAsync(Alice, "t", Args());
                        if (!decision.IsAllowed)
                        {
                            continue;
                        }

                        var succeeded = (i + worker) % 3 != 0;
                        await evaluator.CompleteAsync(decision, succeeded);
                        if (succeeded)
                        {
                            Interlocked.Increment(ref kept);
                        }
                    }
                },
                TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(kept <= 40, $"{kept} kept");
        Assert.Equal(40 - kept, CountAllowed(evaluator, Alice, "t", Args(), 100));
    }

    // ------------------------------------------------------------------ fakes

    /// <summary>
    /// A store that can hold a caller at its door: the caller has already read the clock (the evaluator passes its
    /// instant), and reaches the inner store only when the test opens the gate, so callers arrive in any order.
    /// </summary>
    private sealed class GatedStore(ICounterStore inner) : ICounterStore
    {
        private readonly Lock _lock = new();
        private readonly List<DateTimeOffset> _stamps = [];
        private (ManualResetEventSlim Arrived, ManualResetEventSlim Gate)? _next;

        /// <summary>The instants of every reservation that reached the inner store.</summary>
        public IReadOnlyList<DateTimeOffset> Stamps
        {
            get
            {
                lock (_lock)
                {
                    return [.. _stamps];
                }
            }
        }

        /// <summary>Runs <paramref name="evaluate"/> on another thread and returns once it waits at the gate (the gate is set to let it in).</summary>
        public (Task<Decision> Decision, ManualResetEventSlim Gate) EvaluateHeld(Func<Decision> evaluate)
        {
            var arrived = new ManualResetEventSlim();
            var gate = new ManualResetEventSlim();
            lock (_lock)
            {
                _next = (arrived, gate);
            }

            var task = Task.Factory.StartNew(evaluate, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Assert.True(arrived.Wait(TimeSpan.FromSeconds(30)), "the held call never reached the store");
            return (task, gate);
        }

        public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
        {
            (ManualResetEventSlim Arrived, ManualResetEventSlim Gate)? held;
            lock (_lock)
            {
                held = _next;
                _next = null;
            }

            if (held is { } h)
            {
                h.Arrived.Set();
                h.Gate.Wait();
            }

            lock (_lock)
            {
                _stamps.Add(now);
            }

            return inner.Reserve(requests, now);
        }

        public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => inner.Peek(requests, now);

        public void Release(CounterReservation reservation, DateTimeOffset now) => inner.Release(reservation, now);

        public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Reserve(requests, now));

        public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            inner.PeekAsync(requests, now, cancellationToken);

        public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            inner.ReleaseAsync(reservation, now, cancellationToken);
    }

    /// <summary>A store whose every operation fails, as an unreachable database would.</summary>
    private sealed class ThrowingStore : ICounterStore
    {
        private int _releaseCalls;

        public bool FailReserve { get; init; } = true;

        public int ReleaseCalls => Volatile.Read(ref _releaseCalls);

        public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) =>
            FailReserve ? throw new InvalidOperationException("the store is down") : CounterResult.Success(new CounterReservation([new CounterCharge(requests[0].Key, 1, 0, long.MaxValue)]));

        public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => throw new TimeoutException("the store is slow");

        public void Release(CounterReservation reservation, DateTimeOffset now)
        {
            Interlocked.Increment(ref _releaseCalls);
            throw new InvalidOperationException("the store is down");
        }

        public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            FailReserve ? ValueTask.FromException<CounterResult>(new InvalidOperationException("the store is down")) : ValueTask.FromResult(Reserve(requests, now));

        public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            throw new IOException("the store is down");

        public async ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            Release(reservation, now);
        }
    }

    /// <summary>A store whose asynchronous operations never complete (unless cancelled, when it honours the token).</summary>
    private sealed class HangingStore(bool honourCancellation) : ICounterStore
    {
        public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => throw new NotSupportedException();

        public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => throw new NotSupportedException();

        public void Release(CounterReservation reservation, DateTimeOffset now) => throw new NotSupportedException();

        public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            Hang<CounterResult>(cancellationToken);

        public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            Hang<CounterResult>(cancellationToken);

        public async ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default) =>
            await Hang<bool>(cancellationToken);

        private async ValueTask<T> Hang<T>(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, honourCancellation ? cancellationToken : CancellationToken.None);
            throw new InvalidOperationException("unreachable");
        }
    }
}
