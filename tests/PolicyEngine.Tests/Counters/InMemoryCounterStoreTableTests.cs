using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Counters;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// The in-memory store holds counters whose keys are in the evaluator's format by (prefix, kind) and then by value,
/// so that a grant counter lives under the host's identity string; the evaluator's grant path reaches it without a
/// key. Whatever the path (the evaluator's grant path, <see cref="ICounterStore.Reserve"/> with the whole key, a
/// rollback), one key must be one counter, and two keys two counters.
/// </summary>
public class InMemoryCounterStoreTableTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);
    private static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement;
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static Policy GrantLimit(int max) => Policy.Parse(
        "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"limits\":[{\"counter\":\"runs\",\"window\":\"minute\",\"max\":" + max + ",\"scope\":\"grant\"}]}}}");

    private static string GrantKey(string id) => CounterKeys.Build("4:runs|60000f|", CounterKeys.Grant, id);

    private static CounterRequest[] Request(string key, long max, TimeSpan? window = null, LimitAlgorithm algorithm = LimitAlgorithm.Fixed) =>
        [new CounterRequest(key, 1, max, window ?? Minute, algorithm)];

    [Fact]
    public void GrantPath_AndWholeKeyReserve_CountOneCounter()
    {
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(GrantLimit(3), store, timeProvider: new FakeTimeProvider(Start));
        var alice = new PolicyIdentity("alice");

        Assert.True(evaluator.Evaluate(alice, "t", NoArgs).IsAllowed);
        Assert.True(store.Reserve(Request(GrantKey("alice"), 3), Start).Admitted);
        Assert.True(evaluator.Evaluate(alice, "t", NoArgs).IsAllowed);
        Assert.False(store.Reserve(Request(GrantKey("alice"), 3), Start).Admitted);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(alice, "t", NoArgs).Kind);
        Assert.Equal(1, store.Count);
    }

    [Fact]
    public void GrantPath_Reservation_CarriesTheWholeKeyAndItsRollbackRefundsTheCounter()
    {
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(GrantLimit(1), store, timeProvider: new FakeTimeProvider(Start));
        var alice = new PolicyIdentity("al|1:g ice");

        var decision = evaluator.Evaluate(alice, "t", NoArgs);
        Assert.Equal(GrantKey("al|1:g ice"), Assert.Single(decision.Reservation!.Charges).Key);
        Assert.False(store.Peek(Request(GrantKey("al|1:g ice"), 1), Start).Admitted);

        evaluator.Complete(decision, succeeded: false);
        Assert.True(store.Peek(Request(GrantKey("al|1:g ice"), 1), Start).Admitted);
        Assert.True(evaluator.Evaluate(alice, "t", NoArgs).IsAllowed);
    }

    [Fact]
    public void WholeKeyRelease_OfAGrantPathCharge_RefundsTheSameCounter()
    {
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(GrantLimit(1), store, timeProvider: new FakeTimeProvider(Start));
        var decision = evaluator.Evaluate(new PolicyIdentity("bob"), "t", NoArgs);

        store.Release(decision.Reservation!, Start);

        Assert.True(evaluator.Evaluate(new PolicyIdentity("bob"), "t", NoArgs).IsAllowed);
    }

    [Fact]
    public void KeyInTheFormat_WithAnotherWindowThanItEncodes_IsCountedApartFromTheLimitsCounter()
    {
        // The prefix says one minute; a caller that counts the same string over an hour gets a counter of its own
        // (held by the whole key), so neither can make the other's cell outlive or undercount its window.
        var store = new InMemoryCounterStore();
        var key = GrantKey("carol");
        Assert.True(store.Reserve(Request(key, 1), Start).Admitted);
        Assert.True(store.Reserve(Request(key, 1, TimeSpan.FromHours(1)), Start).Admitted);
        Assert.False(store.Reserve(Request(key, 1, TimeSpan.FromHours(1)), Start).Admitted);
        Assert.False(store.Reserve(Request(key, 1), Start).Admitted);
        Assert.Equal(2, store.Count);

        // Any other window or algorithm under that key is held by the whole key too: one counter, as before.
        Assert.False(store.Reserve(Request(key, 1, Minute, LimitAlgorithm.Sliding), Start).Admitted);
        Assert.Equal(2, store.Count);
    }

    [Fact]
    public void PastTheLastPrefixTable_NewPrefixesAreHeldWholeAndStillCountedOnce()
    {
        var store = new InMemoryCounterStore();
        for (var i = 0; i < 10_000; i++)
        {
            Assert.True(store.Reserve(Request(CounterKeys.Build($"{i.ToString().Length}:{i}|60000f|", CounterKeys.Global, []), 1), Start).Admitted);
        }

        // "runs" has no table of its own now: the evaluator's grant path and the whole key must still meet.
        var evaluator = new PolicyEvaluator(GrantLimit(2), store, timeProvider: new FakeTimeProvider(Start));
        Assert.True(evaluator.Evaluate(new PolicyIdentity("dave"), "t", NoArgs).IsAllowed);
        Assert.True(store.Reserve(Request(GrantKey("dave"), 2), Start).Admitted);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(new PolicyIdentity("dave"), "t", NoArgs).Kind);
        Assert.Equal(10_001, store.Count);
    }

    [Fact]
    public void AtTheLastPrefixTable_RacingCallersOfOnePrefix_StillShareOneCounter()
    {
        // The 10,000th table is created while callers of another new prefix arrive: each of them must land where the
        // others do (all in the prefix's table, or all held whole), or two counters would admit twice the max.
        for (var round = 0; round < 10; round++)
        {
            var store = new InMemoryCounterStore();
            for (var i = 0; i < 9_999; i++)
            {
                store.Reserve(Request(CounterKeys.Build($"{i.ToString().Length}:{i}|60000f|", CounterKeys.Global, []), 1), Start);
            }

            var key = GrantKey("racer");
            var admitted = 0;
            using var start = new Barrier(4);
            var callers = Enumerable.Range(0, 4).Select(caller => new Thread(() =>
            {
                start.SignalAndWait();
                if (caller == 0)
                {
                    store.Reserve(Request(CounterKeys.Build("5:other|60000f|", CounterKeys.Global, []), 1), Start);
                }

                for (var call = 0; call < 5; call++)
                {
                    if (store.Reserve(Request(key, 5), Start).Admitted)
                    {
                        Interlocked.Increment(ref admitted);
                    }
                }
            })).ToArray();
            foreach (var thread in callers)
            {
                thread.Start();
            }

            foreach (var thread in callers)
            {
                thread.Join();
            }

            Assert.Equal(5, admitted);
        }
    }

    [Fact]
    public void Sweep_RemovesExpiredCellsOfEveryTable()
    {
        var time = new FakeTimeProvider(Start);
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(GrantLimit(1), store, timeProvider: time);
        Assert.True(evaluator.Evaluate(new PolicyIdentity("erin"), "t", NoArgs).IsAllowed);
        Assert.True(store.Reserve(Request("a host's own key", 1), Start).Admitted);
        Assert.Equal(2, store.Count);

        time.Advance(TimeSpan.FromMinutes(3));
        Assert.True(evaluator.Evaluate(new PolicyIdentity("frank"), "t", NoArgs).IsAllowed);

        Assert.Equal(1, store.Count);
        Assert.True(evaluator.Evaluate(new PolicyIdentity("erin"), "t", NoArgs).IsAllowed);
    }

    /// <summary>
    /// Any two identity ids, however hostile (separators, digits, length prefixes, lone surrogates), keep apart on the
    /// grant path and each meets its own whole key.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property GrantPath_AnyTwoIds_CountApartAndEachMeetsItsWholeKey(NonNull<string> first, NonNull<string> second)
    {
        var store = new InMemoryCounterStore();
        var evaluator = new PolicyEvaluator(GrantLimit(2), store, timeProvider: new FakeTimeProvider(Start));
        var a = new PolicyIdentity(first.Get);
        var b = new PolicyIdentity(second.Get);
        var same = first.Get == second.Get;

        var firstAllowed = evaluator.Evaluate(a, "t", NoArgs).IsAllowed;
        var secondAllowed = evaluator.Evaluate(b, "t", NoArgs).IsAllowed;
        var wholeKeyOfA = store.Reserve(Request(GrantKey(first.Get), 2), Start).Admitted;

        // Apart: a has 1 of 2 used, so the whole key admits. Same id: both calls used it up, so it refuses.
        return (firstAllowed && secondAllowed && wholeKeyOfA == !same && store.Count == (same ? 1 : 2))
            .Label($"same={same} whole={wholeKeyOfA} count={store.Count}");
    }
}
