using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// A tool whose one charge is a grant-scoped limit of fixed cost is decided without a plan on the default store, and
/// its fixed window is charged in one step while the identity's newest bucket is the current window. That path must
/// decide exactly as the general one does: the same kind, rule and retry-after for every call, the same reservation,
/// and the same rollbacks, whatever the clock does (windows passing, callers stamped a little behind, a clock far
/// behind) and whichever evaluators share the identity objects.
/// </summary>
public class SoleGrantPathTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;
    private static readonly JsonElement Reader = JsonDocument.Parse("""{ "who": "reader" }""").RootElement;

    /// <summary>A clock the test sets anywhere, backwards included (a caller that read the clock a little earlier).</summary>
    private sealed class SettableClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = T0;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Every shape of the sole grant path: fixed and sliding windows, costs, checks before the limit, and a tool beside it.</summary>
    private static Policy Shapes(int max) => Policy.Parse($$"""
        { "version": "2", "default": "deny", "tools": {
          "run":     { "limits": [ { "counter": "runs", "window": "minute", "max": {{max}}, "scope": "grant" } ] },
          "burst":   { "limits": [ { "counter": "bursts", "window": "30s", "max": {{max}}, "scope": "grant", "cost": 2 } ] },
          "slide":   { "limits": [ { "counter": "slides", "window": "1m", "max": {{max}}, "scope": "grant", "algorithm": "sliding" } ] },
          "checked": { "require": [ { "path": "args.who", "op": "eq", "value": "reader", "on_deny": "readers only" } ],
                       "limits": [ { "counter": "runs", "window": "minute", "max": {{max}}, "scope": "grant" } ] },
          "free":    {} } }
        """);

    private static readonly string[] Tools = ["run", "burst", "slide", "checked", "free"];

    /// <summary>One step: a call (tool, identity, arguments, then commit, roll back or leave open) or a clock move.</summary>
    public sealed record Step(int Kind, int Tool, int Who, int Ms, int Outcome);

    private static Arbitrary<(int Max, Step[] Steps)> Runs() =>
        (from max in Gen.Choose(1, 6)
         from steps in Gen.ListOf(
             from kind in Gen.Frequency((6, Gen.Constant(0)), (2, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)))
             from tool in Gen.Choose(0, Tools.Length - 1)
             from who in Gen.Choose(0, 3)
             from ms in Gen.Choose(0, 70_000)
             from outcome in Gen.Choose(0, 3)
             select new Step(kind, tool, who, ms, outcome))
         select (max, steps.ToArray())).ToArbitrary();

    [Property(MaxTest = 3000)]
    public Property SoleGrantPath_AnyRun_DecidesAsTheGeneralPath() =>
        Prop.ForAll(Runs(), run =>
        {
            var policy = Shapes(run.Max);
            var clock = new SettableClock();

            // The default store takes the sole grant path; a wrapped one (not the default store) plans every call and
            // reserves by key. A second default-store evaluator shares the identities, so their cell hints belong to
            // another store half of the time.
            var fast = new PolicyEvaluator(policy, timeProvider: clock);
            var other = new PolicyEvaluator(policy, timeProvider: clock);
            var general = new PolicyEvaluator(policy, new CountingCounterStore(), timeProvider: clock);
            var identities = Enumerable.Range(0, 4).Select(i => new PolicyIdentity("caller-" + i)).ToArray();
            var open = new List<(Decision Fast, Decision Other, Decision General)>();
            var latest = T0;

            foreach (var step in run.Steps)
            {
                switch (step.Kind)
                {
                    case 1:
                        latest = latest.AddMilliseconds(step.Ms);
                        clock.Now = latest;
                        continue;
                    case 2:
                        // A caller stamped a little before the newest call (it read the clock earlier), or whole windows
                        // before it (a clock far behind).
                        clock.Now = step.Outcome < 2
                            ? latest.AddMilliseconds(-(step.Ms % 3_000))
                            : latest.AddMilliseconds(-((1 + (step.Ms % 3)) * 60_000L) - (step.Ms % 1_000));
                        continue;
                    case 3 when open.Count > 0:
                        var (f, o, g) = open[step.Ms % open.Count];
                        open.RemoveAt(step.Ms % open.Count);
                        var succeeded = step.Outcome % 2 == 0;
                        fast.Complete(f, succeeded);
                        other.Complete(o, succeeded);
                        general.Complete(g, succeeded);
                        continue;
                }

                var tool = Tools[step.Tool];
                var args = step.Outcome == 3 ? NoArgs : Reader;
                var who = identities[step.Who];
                var expected = general.Evaluate(who, tool, args);
                var actual = fast.Evaluate(who, tool, args);
                var beside = other.Evaluate(who, tool, args);
                foreach (var decision in new[] { actual, beside })
                {
                    if (decision.Kind != expected.Kind || decision.Rule != expected.Rule || decision.RetryAfter != expected.RetryAfter
                        || !SameCharges(decision.Reservation, expected.Reservation))
                    {
                        return false.Label($"{tool} by {who.Id} at {clock.Now:O}: {decision} (retry {decision.RetryAfter}) vs the general path's {expected} (retry {expected.RetryAfter})");
                    }
                }

                if (expected.IsAllowed)
                {
                    open.Add((actual, beside, expected));
                }
            }

            return true.ToProperty();
        });

    private static bool SameCharges(CounterReservation? left, CounterReservation? right) =>
        left is null ? right is null : right is not null && left.Charges.SequenceEqual(right.Charges);

    [Fact]
    public void SoleGrantPath_WindowPasses_AdmitsMaxAgainAndRetryAfterNamesTheWindowEnd()
    {
        var clock = new SettableClock();
        var evaluator = new PolicyEvaluator(Shapes(2), timeProvider: clock);
        var who = new PolicyIdentity("alice");

        Assert.True(evaluator.Evaluate(who, "run", NoArgs).IsAllowed);
        Assert.True(evaluator.Evaluate(who, "run", NoArgs).IsAllowed);
        var limited = evaluator.Evaluate(who, "run", NoArgs);
        Assert.Equal(DecisionKind.RateLimited, limited.Kind);
        Assert.Equal("/tools/run/limits/0", limited.Rule);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), limited.RetryAfter);

        clock.Now = T0.AddMilliseconds(39_749);
        Assert.Equal(TimeSpan.FromMilliseconds(1), evaluator.Evaluate(who, "run", NoArgs).RetryAfter);

        // The window's end is the next window's first instant.
        clock.Now = T0.AddMilliseconds(39_750);
        Assert.True(evaluator.Evaluate(who, "run", NoArgs).IsAllowed);
        Assert.True(evaluator.Evaluate(who, "run", NoArgs).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(who, "run", NoArgs).Kind);
    }

    [Fact]
    public void SoleGrantPath_AfterACallStampedAWindowBehind_DecidesAsTheGeneralPath()
    {
        // The late call puts a bucket two windows below the newest into the cell; the general path's next charge drops
        // it and remembers it as the horizon, so a later call stamped in it is refused as behind. The one-step charge
        // must not skip that (found in review: it admitted the fourth call).
        var clock = new SettableClock();
        var policy = Shapes(5);
        var fast = new PolicyEvaluator(policy, timeProvider: clock);
        var general = new PolicyEvaluator(policy, new CountingCounterStore(), timeProvider: clock);
        var who = new PolicyIdentity("alice");
        foreach (var stamp in new[] { T0.AddMinutes(2), T0, T0.AddMinutes(2), T0 })
        {
            clock.Now = stamp;
            var expected = general.Evaluate(who, "run", NoArgs);
            var actual = fast.Evaluate(who, "run", NoArgs);
            Assert.Equal((expected.Kind, expected.RetryAfter), (actual.Kind, actual.RetryAfter));
        }

        Assert.Equal(DecisionKind.RateLimited, fast.Evaluate(who, "run", NoArgs).Kind);
    }

    [Fact]
    public void SoleGrantPath_Rollback_ReturnsTheQuotaOnce()
    {
        var evaluator = new PolicyEvaluator(Shapes(1), timeProvider: new SettableClock());
        var who = new PolicyIdentity("alice");

        var admitted = evaluator.Evaluate(who, "run", NoArgs);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(who, "run", NoArgs).Kind);
        evaluator.Complete(admitted, succeeded: false);
        evaluator.Complete(admitted, succeeded: false);

        Assert.True(evaluator.Evaluate(who, "run", NoArgs).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(who, "run", NoArgs).Kind);
    }

    [Fact]
    public void SoleGrantPath_ChecksDenyFirst_AndChargeNothing()
    {
        var evaluator = new PolicyEvaluator(Shapes(1), timeProvider: new SettableClock());
        var who = new PolicyIdentity("alice");

        var denied = evaluator.Evaluate(who, "checked", NoArgs);
        Assert.Equal(DecisionKind.Deny, denied.Kind);
        Assert.Equal("readers only", denied.Reason);
        Assert.True(evaluator.Evaluate(who, "checked", Reader).IsAllowed);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(who, "checked", Reader).Kind);
    }
}
