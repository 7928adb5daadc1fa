using System.Text.Json;
using PolicyEngine.Evaluation;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>
/// The evaluator recycles the cancellation sources of its store timeout. A recycled source must never carry an earlier
/// call's cancellation (a fired timer, a cancelled caller) into a later call: that would fail a healthy call closed, or
/// worse, let a store's late answer count for the wrong call.
/// </summary>
public class StoreTimeoutsTests
{
    [Fact]
    public async Task Start_AfterLeasesWhoseTimerFiredOrCallerCancelled_NeverHandsOutACancelledToken()
    {
        for (var round = 0; round < 20; round++)
        {
            var fired = StoreTimeouts.Start(TimeSpan.FromMilliseconds(1), CancellationToken.None);
            await WaitUntilCancelled(fired.Token);
            fired.Dispose();

            using var caller = new CancellationTokenSource();
            var linked = StoreTimeouts.Start(TimeSpan.FromMinutes(1), caller.Token);
            await caller.CancelAsync();
            Assert.True(linked.Token.IsCancellationRequested);
            linked.Dispose();

            var quiet = StoreTimeouts.Start(TimeSpan.FromMinutes(1), CancellationToken.None);
            quiet.Dispose();

            for (var i = 0; i < 8; i++)
            {
                var next = StoreTimeouts.Start(TimeSpan.FromMinutes(1), CancellationToken.None);
                Assert.False(next.Token.IsCancellationRequested);
                next.Dispose();
            }
        }
    }

    [Fact]
    public void Start_WithACallerTokenAlreadyCancelled_IsCancelledAtOnce()
    {
        var lease = StoreTimeouts.Start(TimeSpan.FromMinutes(1), new CancellationToken(canceled: true));
        Assert.True(lease.Token.IsCancellationRequested);
        lease.Dispose();
    }

    [Fact]
    public async Task Start_RecycledSource_StillFiresItsNewTimeout()
    {
        var first = StoreTimeouts.Start(TimeSpan.FromMinutes(1), CancellationToken.None);
        first.Dispose();

        var second = StoreTimeouts.Start(TimeSpan.FromMilliseconds(20), CancellationToken.None);
        await WaitUntilCancelled(second.Token);
        second.Dispose();
    }

    [Fact]
    public async Task EvaluateAsync_TimeoutsThenHealthyCalls_HealthyCallsAreAdmitted()
    {
        var store = new SwitchableStore();
        var policy = Policy.Parse("""{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "hour", "max": 1000, "scope": "grant" } ] } } }""");
        var evaluator = new PolicyEvaluator(policy, store, options: new PolicyEvaluatorOptions { StoreTimeout = TimeSpan.FromMilliseconds(50) });
        var identity = new PolicyIdentity("alice");
        var args = JsonDocument.Parse("{}").RootElement;

        store.Hang = true;
        for (var i = 0; i < 3; i++)
        {
            var timedOut = await evaluator.EvaluateAsync(identity, "t", args, TestContext.Current.CancellationToken);
            Assert.Equal(BuiltInRules.StoreUnavailable, timedOut.Rule);
        }

        store.Hang = false;
        for (var i = 0; i < 50; i++)
        {
            var decision = await evaluator.EvaluateAsync(identity, "t", args, TestContext.Current.CancellationToken);
            Assert.True(decision.IsAllowed, $"call {i}: {decision.Rule} {decision.Reason}");
            evaluator.Complete(decision, succeeded: true);
        }
    }

    private static async Task WaitUntilCancelled(CancellationToken token)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!token.IsCancellationRequested)
        {
            Assert.True(DateTime.UtcNow < deadline, "the timer never fired");
            await Task.Delay(5, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>A store that answers asynchronously, or hangs ignoring its token.</summary>
    private sealed class SwitchableStore : CounterStore
    {
        private readonly InMemoryCounterStore _inner = new();

        public volatile bool Hang;

        protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => _inner.Reserve(requests, now);

        protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => _inner.Peek(requests, now);

        protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now) => _inner.Release(reservation, now);

        protected override async ValueTask<CounterResult> ReserveCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken)
        {
            if (Hang)
            {
                await Task.Delay(Timeout.Infinite, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
            }
            else
            {
                await Task.Yield();
            }

            return _inner.Reserve(requests, now);
        }
    }
}
