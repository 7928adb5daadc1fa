using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// The in-memory store's fast path starts from a cell the <see cref="PolicyIdentity"/> keeps for its first
/// grant-scoped counter. A hint is only a shortcut: these tests hold that it never joins counters that must stay apart
/// (another store, another identity, another policy's limit) nor splits one that must be shared (two identity objects
/// with the same id), and that a swept cell is never charged.
/// </summary>
public class CellHintTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;

    private static Policy Limit(int max, string counter = "runs") => Policy.Parse(
        "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"limits\":[{\"counter\":\"" + counter + "\",\"window\":\"minute\",\"max\":" + max + ",\"scope\":\"grant\"}]}}}");

    private static int Admitted(PolicyEvaluator evaluator, PolicyIdentity identity, int tries)
    {
        var admitted = 0;
        for (var i = 0; i < tries; i++)
        {
            var decision = evaluator.Evaluate(identity, "t", NoArgs);
            if (decision.IsAllowed)
            {
                admitted++;
                evaluator.Complete(decision, succeeded: true);
            }
        }

        return admitted;
    }

    [Fact]
    public void Evaluate_OneIdentityOnTwoStores_CountsEachStoreApart()
    {
        var time = new FakeTimeProvider(Start);
        var policy = Limit(3);
        var first = new PolicyEvaluator(policy, new InMemoryCounterStore(), timeProvider: time);
        var second = new PolicyEvaluator(policy, new InMemoryCounterStore(), timeProvider: time);
        var alice = new PolicyIdentity("alice");

        // Interleaved, so a hint left by one store would be offered to the other on every call.
        var admitted = 0;
        for (var i = 0; i < 5; i++)
        {
            admitted += Admitted(first, alice, 1) + (Admitted(second, alice, 1) * 100);
        }

        Assert.Equal(303, admitted);
    }

    [Fact]
    public void Evaluate_TwoIdentityObjectsWithOneId_ShareTheCounter()
    {
        var evaluator = new PolicyEvaluator(Limit(4), timeProvider: new FakeTimeProvider(Start));
        var kept = new PolicyIdentity("alice");

        var admitted = 0;
        for (var i = 0; i < 6; i++)
        {
            // The kept identity has a hint after its first call; a fresh object per call (a host that rebuilds the
            // identity per request) goes through the store's dictionary to the same counter.
            admitted += Admitted(evaluator, kept, 1) + Admitted(evaluator, new PolicyIdentity("alice"), 1);
        }

        Assert.Equal(4, admitted);
    }

    [Fact]
    public void Evaluate_OneIdentityUnderTwoPoliciesWithDifferentCounters_KeepsThemApart()
    {
        var time = new FakeTimeProvider(Start);
        var store = new InMemoryCounterStore();
        var runs = new PolicyEvaluator(Limit(2, "runs"), store, timeProvider: time);
        var sends = new PolicyEvaluator(Limit(3, "sends"), store, timeProvider: time);
        var alice = new PolicyIdentity("alice");

        var admitted = 0;
        for (var i = 0; i < 5; i++)
        {
            admitted += Admitted(runs, alice, 1) + (Admitted(sends, alice, 1) * 100);
        }

        Assert.Equal(302, admitted);
    }

    [Fact]
    public void Evaluate_AfterTheHintedCellWasSwept_CountsTheNewWindowInTheLiveCell()
    {
        var time = new FakeTimeProvider(Start);
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(Limit(2), store, timeProvider: time);
        var alice = new PolicyIdentity("alice");
        Assert.Equal(2, Admitted(evaluator, alice, 3));

        // Long enough for the sweep (run by bob's call) to drop the cell alice's identity points at.
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, Admitted(evaluator, new PolicyIdentity("bob"), 1));
        Assert.Equal(1, store.Count);
        Assert.Equal(2, Admitted(evaluator, alice, 3));

        // The charges went to the live cell the store holds: a fresh identity object sees the same count.
        Assert.Equal(0, Admitted(evaluator, new PolicyIdentity("alice"), 3));
        Assert.Equal(2, store.Count);
    }
}
