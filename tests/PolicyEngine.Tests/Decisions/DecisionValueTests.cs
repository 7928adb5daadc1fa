using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Decisions;

/// <summary>
/// <see cref="Decision"/> is a value: copies are the same decision, an uninitialised one is never an allow, and its
/// reservation handle is recycled without letting a stale decision touch the call that reuses the handle.
/// </summary>
public class DecisionValueTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
    private static readonly PolicyIdentity Alice = new("alice");
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;

    private static PolicyEvaluator Limited(int max, FakeTimeProvider? time = null, ICounterStore? store = null) => new(
        Policy.Parse("""{"version":"2","default":"deny","tools":{"t":{"limits":[{"counter":"c","window":"minute","max":MAX}]}}}""".Replace("MAX", max.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)),
        store,
        timeProvider: time ?? new FakeTimeProvider(Start));

    private static int Admitted(PolicyEvaluator evaluator, int tries)
    {
        var admitted = 0;
        for (var i = 0; i < tries; i++)
        {
            var decision = evaluator.Evaluate(Alice, "t", NoArgs);
            if (decision.IsAllowed)
            {
                admitted++;
                evaluator.Complete(decision, succeeded: true);
            }
        }

        return admitted;
    }

    [Fact]
    public void Default_ReadsAsADenialWithTheNoDecisionRule()
    {
        var decision = default(Decision);

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.False(decision.IsAllowed);
        Assert.Equal(BuiltInRules.NoDecision, decision.Rule);
        Assert.NotNull(decision.Reason);
        Assert.Equal(string.Empty, decision.PolicyVersion);
        Assert.Null(decision.RetryAfter);
        Assert.Null(decision.Approval);
        Assert.False(decision.HasReservation);
        Assert.False(decision.IsUnenforced);
    }

    [Fact]
    public void Complete_DefaultDecision_DoesNothing()
    {
        var evaluator = Limited(1);
        evaluator.Complete(default, succeeded: false);

        Assert.Equal(1, Admitted(evaluator, 5));
    }

    [Fact]
    public void Complete_StaleDecisionAfterItsHandleWasReused_DoesNotReleaseTheNewCall()
    {
        var evaluator = Limited(2);
        var first = evaluator.Evaluate(Alice, "t", NoArgs);
        evaluator.Complete(first, succeeded: true);

        // The second call takes the recycled handle of the first.
        var second = evaluator.Evaluate(Alice, "t", NoArgs);
        Assert.True(second.IsAllowed && second.HasReservation);
        Assert.Same(first.Ticket, second.Ticket);

        // A late rollback of the first (completed) decision must not return the second call's quota.
        evaluator.Complete(first, succeeded: false);
        Assert.False(evaluator.Evaluate(Alice, "t", NoArgs).IsAllowed);

        // The second decision's own rollback still works, once.
        evaluator.Complete(second, succeeded: false);
        evaluator.Complete(second, succeeded: false);
        Assert.Equal(1, Admitted(evaluator, 5));
    }

    [Fact]
    public void Complete_OneCopyThenAnother_CountsOnlyTheFirst()
    {
        var evaluator = Limited(2);
        var decision = evaluator.Evaluate(Alice, "t", NoArgs);
        var copy = decision;
        Assert.Equal(decision, copy);

        evaluator.Complete(copy, succeeded: true);
        evaluator.Complete(decision, succeeded: false);

        Assert.Equal(1, Admitted(evaluator, 5));
    }

    [Fact]
    public void Complete_DecisionOfAnotherEvaluatorOnTheSameStore_DoesNothing()
    {
        var store = new InMemoryCounterStore();
        var time = new FakeTimeProvider(Start);
        var issuer = Limited(1, time, store);
        var other = Limited(1, time, store);
        var decision = issuer.Evaluate(Alice, "t", NoArgs);

        other.Complete(decision, succeeded: false);

        Assert.False(issuer.Evaluate(Alice, "t", NoArgs).IsAllowed);
        Assert.True(decision.HasReservation);
    }

    [Fact]
    public void Complete_ConcurrentRollbacksOfCopies_ReleaseExactlyOnce()
    {
        var evaluator = Limited(1);
        for (var round = 0; round < 200; round++)
        {
            var decision = evaluator.Evaluate(Alice, "t", NoArgs);
            Assert.True(decision.IsAllowed, $"round {round}");
            Parallel.For(0, 8, _ => evaluator.Complete(decision, succeeded: false));

            // Exactly one rollback: one call is admitted again, not two (the next round's call uses it).
            var probe = evaluator.Evaluate(Alice, "t", NoArgs);
            Assert.True(probe.IsAllowed, $"round {round}");
            Assert.False(evaluator.Evaluate(Alice, "t", NoArgs).IsAllowed);
            evaluator.Complete(probe, succeeded: false);
        }
    }

    [Fact]
    public void RateLimited_CarriesItsRetryAfterAndTheLimitPointer()
    {
        var time = new FakeTimeProvider(Start);
        var evaluator = Limited(1, time);
        Assert.True(evaluator.Evaluate(Alice, "t", NoArgs).IsAllowed);

        var first = evaluator.Evaluate(Alice, "t", NoArgs);
        time.Advance(TimeSpan.FromSeconds(10));
        var later = evaluator.Evaluate(Alice, "t", NoArgs);

        Assert.Equal(DecisionKind.RateLimited, first.Kind);
        Assert.Equal("/tools/t/limits/0", first.Rule);
        Assert.Equal(TimeSpan.FromMilliseconds(39_750), first.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(29_750), later.RetryAfter);
        Assert.NotEqual(first, later);
        Assert.False(first.HasReservation);
    }
}
