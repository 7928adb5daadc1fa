using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Tests.Diagnostics;

namespace PolicyEngine.Tests.Shadow;

/// <summary>
/// Shadow mode: the candidate is evaluated beside the enforced policy, never changes an outcome, counts in its own
/// namespace, and reports exactly the calls on which it decides another kind. The metric test installs a process-wide
/// listener, so the class shares the telemetry collection with the allocation tests.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class ShadowPolicyEvaluatorTests
{
    private const string Enforced = """
        { "version": "2", "default": "deny", "tools": {
            "get_sum": { "limits": [ { "counter": "sums", "window": "minute", "max": 5, "scope": "grant" } ] },
            "echo": {},
            "delete": { "approval": { "reason": "deletes data" } } } }
        """;

    // Tighter: 3 sums a minute instead of 5, no echo of long messages, and a new tool it would allow.
    private const string Tightened = """
        { "version": "2", "default": "deny", "tools": {
            "get_sum": { "limits": [ { "counter": "sums", "window": "minute", "max": 3, "scope": "grant" } ] },
            "echo": { "deny_if": [ { "path": "args.message", "op": "regex", "value": "^.{10,}$", "on_deny": "too long" } ] },
            "delete": { "approval": { "reason": "deletes data" } },
            "status": {} } }
        """;

    private static readonly PolicyIdentity Alice = new("alice");

    private static (ShadowPolicyEvaluator Shadow, List<ShadowDisagreement> Seen) Create(string enforced, string candidate, FakeTimeProvider time, ICounterStore? enforcedStore = null, ICounterStore? candidateStore = null)
    {
        var evaluator = new PolicyEvaluator(Policy.Parse(enforced), enforcedStore, timeProvider: time);
        var shadow = new ShadowPolicyEvaluator(evaluator, Policy.Parse(candidate), candidateStore, time);
        var seen = new List<ShadowDisagreement>();
        shadow.Disagreement += (_, e) => seen.Add(e);
        return (shadow, seen);
    }

    private static JsonElement Args(string json) => TestPolicies.Args(json);

    [Fact]
    public void TightenedCandidate_ReportsExactlyTheCallsItWouldHaveRefused()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (shadow, seen) = Create(Enforced, Tightened, time);

        // Seven calls in one minute: the enforced policy admits five sums, the candidate would admit three.
        var calls = new (string Tool, string Args)[]
        {
            ("get_sum", """{"a":1,"b":2}"""),           // 0 both allow
            ("echo", """{"message":"hi"}"""),           // 1 both allow
            ("get_sum", """{"a":1,"b":2}"""),           // 2 both allow
            ("echo", """{"message":"a long message"}"""), // 3 candidate denies
            ("get_sum", """{"a":1,"b":2}"""),           // 4 both allow (third sum)
            ("get_sum", """{"a":1,"b":2}"""),           // 5 candidate rate-limits (fourth sum)
            ("get_sum", """{"a":1,"b":2}"""),           // 6 candidate rate-limits (fifth sum)
            ("get_sum", """{"a":1,"b":2}"""),           // 7 both rate-limit (sixth sum)
            ("status", "{}"),                           // 8 enforced denies (default deny), candidate allows
        };
        var kinds = new List<DecisionKind>();
        var refusedByCandidate = new List<int>();
        for (var i = 0; i < calls.Length; i++)
        {
            var before = seen.Count;
            var decision = shadow.Evaluate(Alice, calls[i].Tool, Args(calls[i].Args));
            kinds.Add(decision.Enforced.Kind);
            shadow.Complete(decision, succeeded: true);
            if (seen.Count > before && seen[^1].Candidate.Kind != DecisionKind.Allow)
            {
                refusedByCandidate.Add(i);
            }
        }

        // The outcome is the enforced policy's, call for call.
        Assert.Equal(
            [DecisionKind.Allow, DecisionKind.Allow, DecisionKind.Allow, DecisionKind.Allow, DecisionKind.Allow,
             DecisionKind.Allow, DecisionKind.Allow, DecisionKind.RateLimited, DecisionKind.Deny],
            kinds);
        Assert.Equal([3, 5, 6], refusedByCandidate);
        Assert.Equal(["allow->deny", "allow->rate_limited", "allow->rate_limited", "deny->allow"], seen.Select(e => e.Kinds));
        Assert.Equal(4, shadow.DisagreementCount);
        Assert.Equal("/tools/echo/deny_if/0", seen[0].Candidate.Rule);
        Assert.Equal("too long", seen[0].Candidate.Reason);
        Assert.Equal("/tools/get_sum/limits/0", seen[1].Candidate.Rule);
        Assert.All(seen, e => Assert.Equal("alice", e.IdentityId));
        Assert.Equal(["message"], seen[0].ArgumentNames);
        Assert.Equal(["a", "b"], seen[1].ArgumentNames);
        Assert.Matches("^[0-9a-f]{64}$", seen[1].ArgumentsSha256);
    }

    [Fact]
    public void IdenticalCandidate_NeverDisagrees_AndNeverTouchesTheEnforcedQuota()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var store = new InMemoryCounterStore();

        // One store for both sides: the candidate's counters are namespaced, so the enforced limit still admits 5.
        var (shadow, seen) = Create(Enforced, Enforced, time, enforcedStore: store, candidateStore: store);
        var admitted = 0;
        for (var i = 0; i < 8; i++)
        {
            var decision = shadow.Evaluate(Alice, "get_sum", Args("{}"));
            admitted += decision.Enforced.IsAllowed ? 1 : 0;
            shadow.Complete(decision, succeeded: true);
        }

        Assert.Equal(5, admitted);
        Assert.Empty(seen);
    }

    [Fact]
    public void FailedCalls_AreReturnedToTheCandidateToo()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        // The enforced policy has no limit (its allow is a shared, prebuilt decision); the candidate has one of 2.
        var (shadow, seen) = Create(
            """{ "version": "2", "default": "deny", "tools": { "t": {} } }""",
            """{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "minute", "max": 2, "scope": "grant" } ] } } }""",
            time);

        // Ten failed calls: each is rolled back on both sides, so the candidate never runs out.
        for (var i = 0; i < 10; i++)
        {
            var decision = shadow.Evaluate(Alice, "t", Args("{}"));
            Assert.True(decision.Enforced.IsAllowed);
            shadow.Complete(decision, succeeded: false);
        }

        Assert.Empty(seen);

        // Three successful calls: the third is one the candidate would have refused.
        for (var i = 0; i < 3; i++)
        {
            var decision = shadow.Evaluate(Alice, "t", Args("{}"));
            Assert.True(decision.Enforced.IsAllowed);
            shadow.Complete(decision, succeeded: true);
        }

        Assert.Equal("allow->rate_limited", Assert.Single(seen).Kinds);
    }

    [Fact]
    public async Task ApprovedRetry_IsApprovedOnBothSides_AndAgrees()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (shadow, seen) = Create(Enforced, Tightened, time);
        var args = Args("""{"id": 7}""");

        var first = await shadow.EvaluateAsync(Alice, "delete", args, TestContext.Current.CancellationToken);
        Assert.Equal(DecisionKind.NeedsApproval, first.Enforced.Kind);
        await shadow.ApproveAsync(first.Enforced.Approval!, TestContext.Current.CancellationToken);
        var retried = await shadow.EvaluateAsync(Alice, "delete", args, TestContext.Current.CancellationToken);

        Assert.Equal(DecisionKind.Allow, retried.Enforced.Kind);
        Assert.Empty(seen);
    }

    [Fact]
    public async Task CallSentToAPerson_IsChargedToTheCandidateOnceItIsDecided()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        // The enforced policy asks a person; the candidate allows one call a minute without asking.
        var (shadow, seen) = Create(
            """{ "version": "2", "default": "deny", "tools": { "t": { "approval": { "reason": "ask" } } } }""",
            """{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "grant" } ] } } }""",
            time);
        var args = Args("""{"n": 1}""");

        var asked = await shadow.EvaluateAsync(Alice, "t", args, TestContext.Current.CancellationToken);
        Assert.Equal(DecisionKind.NeedsApproval, asked.Enforced.Kind);
        await shadow.ApproveAsync(asked.Enforced.Approval!, TestContext.Current.CancellationToken);
        var approved = await shadow.EvaluateAsync(Alice, "t", args, TestContext.Current.CancellationToken);
        Assert.True(approved.Enforced.IsAllowed);
        await shadow.CompleteAsync(approved, succeeded: true, TestContext.Current.CancellationToken);

        // One call ran, and the candidate counted it once: its one-a-minute limit was not already spent by the question.
        Assert.Equal(["needs_approval->allow"], seen.Select(e => e.Kinds));
    }

    [Fact]
    public void Metric_CountsDisagreementsByToolAndKinds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (shadow, _) = Create(Enforced, Tightened, time);
        var measured = new List<(long Value, string? Tool, string? Kinds)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PolicyTelemetry.Name && instrument.Name == PolicyTelemetry.ShadowDisagreementsCounterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? tool = null, kinds = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "tool") tool = tag.Value as string;
                if (tag.Key == "kinds") kinds = tag.Value as string;
            }

            // Other tests may run shadows concurrently; keep this test's tool only.
            if (tool == "metric_probe")
            {
                lock (measured)
                {
                    measured.Add((value, tool, kinds));
                }
            }
        });
        listener.Start();

        var probe = new ShadowPolicyEvaluator(
            new PolicyEvaluator(Policy.Parse("""{ "version": "2", "default": "allow" }"""), timeProvider: time),
            Policy.Parse("""{ "version": "2", "default": "allow", "tools": { "metric_probe": { "action": "deny", "on_deny": "no" } } }"""),
            timeProvider: time);
        probe.Evaluate(Alice, "metric_probe", Args("{}"));
        probe.Evaluate(Alice, "other", Args("{}"));
        shadow.Evaluate(Alice, "echo", Args("{}"));

        Assert.Equal([(1L, "metric_probe", "allow->deny")], measured);
    }

    [Fact]
    public void ThrowingListener_DoesNotChangeTheDecision()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var (shadow, _) = Create(Enforced, Tightened, time);
        shadow.Disagreement += (_, _) => throw new InvalidOperationException("listener down");

        var decision = shadow.Evaluate(Alice, "status", Args("{}"));

        Assert.Equal(DecisionKind.Deny, decision.Enforced.Kind);
        Assert.Equal(BuiltInRules.DefaultDeny, decision.Enforced.Rule);
    }

    [Fact]
    public void PrefixedCounterStore_KeepsTheTwoKeySetsApart()
    {
        var store = new InMemoryCounterStore();
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var prefixed = new PrefixedCounterStore(store, "shadow|");
        CounterRequest[] one = [new("1:c|60000f|1:a", 1, 1, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed)];

        Assert.True(prefixed.Reserve(one, now).Admitted);
        Assert.True(store.Reserve(one, now).Admitted);
        Assert.False(prefixed.Reserve(one, now).Admitted);
        Assert.Throws<ArgumentException>(() => new PrefixedCounterStore(store, "shadow1"));
    }
}
