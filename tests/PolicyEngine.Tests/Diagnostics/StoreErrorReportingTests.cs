using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PolicyEngine.Tests.Diagnostics;

/// <summary>
/// The evaluator never throws a store's exception at its caller, and never lets a throwing listener break a decision;
/// but the host must learn why "(store unavailable)" happened: the exception is on <see cref="DecisionEvent.StoreError"/>,
/// an <c>exception</c> event on the decision's activity, and the <c>policyengine.errors</c> counter.
/// </summary>
[Collection(TelemetryCollection.Name)]
public class StoreErrorReportingTests
{
    private const string LimitedPolicy = """{ "version": "2", "default": "deny", "tools": { "t": { "limits": [ { "counter": "c", "window": "minute", "max": 5, "scope": "grant" } ] } } }""";

    [Theory]
    [InlineData(StoreFailureMode.FailClosed, DecisionKind.Deny)]
    [InlineData(StoreFailureMode.FailOpen, DecisionKind.Allow)]
    public async Task Evaluate_FailingCounterStore_DecisionEventCarriesTheStoresException(StoreFailureMode mode, DecisionKind expected)
    {
        var failure = new InvalidOperationException("redis: connection refused");
        var evaluator = new PolicyEvaluator(Policy.Parse(LimitedPolicy), new FailingStore(failure), options: new PolicyEvaluatorOptions { StoreFailureMode = mode });
        var events = new List<DecisionEvent>();
        evaluator.DecisionMade += (_, e) => events.Add(e);

        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"));
        var asynchronous = await evaluator.EvaluateAsync(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"), TestContext.Current.CancellationToken);

        Assert.Equal(expected, decision.Kind);
        Assert.Equal(expected, asynchronous.Kind);
        Assert.Equal(mode == StoreFailureMode.FailOpen, decision.IsUnenforced);
        Assert.All(events, e => Assert.Same(failure, e.StoreError));
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public void Evaluate_HealthyStore_HasNoStoreError()
    {
        var evaluator = new PolicyEvaluator(Policy.Parse(LimitedPolicy));
        DecisionEvent? seen = null;
        evaluator.DecisionMade += (_, e) => seen = e;

        evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"));

        Assert.NotNull(seen);
        Assert.Null(seen.StoreError);
    }

    [Fact]
    public void Evaluate_FailingApprovalStore_DecisionEventCarriesTheStoresException()
    {
        var failure = new TimeoutException("approval store timed out");
        var policy = Policy.Parse("""{ "version": "2", "default": "deny", "tools": { "t": { "approval": { "reason": "a person checks" } } } }""");
        var evaluator = new PolicyEvaluator(policy, approvalStore: new FailingApprovals(failure));
        DecisionEvent? seen = null;
        evaluator.DecisionMade += (_, e) => seen = e;

        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"));

        Assert.Equal(BuiltInRules.StoreUnavailable, decision.Rule);
        Assert.Same(failure, seen!.StoreError);
    }

    [Fact]
    public void Evaluate_FailingStore_ActivityHasAnExceptionEventAndTheErrorsCounterCounts()
    {
        var failure = new InvalidOperationException("store down for the tracer");
        var evaluator = new PolicyEvaluator(Policy.Parse(LimitedPolicy), new FailingStore(failure));
        var stopped = new List<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PolicyTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if ((string?)activity.GetTagItem("policyengine.identity") == "store-error-tracer")
                {
                    lock (stopped)
                    {
                        stopped.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(activities);
        var errors = new List<(string Source, string Type)>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PolicyTelemetry.Name && instrument.Name == PolicyTelemetry.ErrorsCounterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var source = string.Empty;
            var type = string.Empty;
            foreach (var tag in tags)
            {
                source = tag.Key == "source" ? (string)tag.Value! : source;
                type = tag.Key == "type" ? (string)tag.Value! : type;
            }

            lock (errors)
            {
                errors.Add((source, type));
            }
        });
        meters.Start();

        evaluator.Evaluate(new PolicyIdentity("store-error-tracer"), "t", TestPolicies.Args("{}"));

        var activity = Assert.Single(stopped);
        Assert.Equal(ActivityStatusCode.Error, activity.Status);
        var exception = Assert.Single(activity.Events, e => e.Name == "exception");
        Assert.Contains(exception.Tags, tag => tag.Key == "exception.message" && (string?)tag.Value == "store down for the tracer");
        lock (errors)
        {
            Assert.Contains(("store", typeof(InvalidOperationException).FullName!), errors);
        }
    }

    [Fact]
    public void Evaluate_ThrowingDecisionMadeHandler_DecisionStandsAndTheErrorIsCounted()
    {
        var evaluator = new PolicyEvaluator(Policy.Parse("""{ "version": "2", "default": "deny", "tools": { "t": {} } }"""));
        evaluator.DecisionMade += (_, _) => throw new FormatException("audit sink broken");
        var sources = new List<string>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PolicyTelemetry.Name && instrument.Name == PolicyTelemetry.ErrorsCounterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "type" && (string?)tag.Value == typeof(FormatException).FullName)
                {
                    lock (sources)
                    {
                        sources.Add("listener");
                    }
                }
            }
        });
        meters.Start();

        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"));

        Assert.Equal(DecisionKind.Allow, decision.Kind);
        lock (sources)
        {
            Assert.Contains("listener", sources);
        }
    }

    private sealed class FailingStore(Exception failure) : CounterStore
    {
        protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => throw failure;

        protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => throw failure;

        protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now) => throw failure;
    }

    private sealed class FailingApprovals(Exception failure) : IApprovalStore
    {
        public void Approve(string requestId, DateTimeOffset now, DateTimeOffset expiresAt) => throw failure;

        public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt) => throw failure;

        public ValueTask ApproveAsync(string requestId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) => throw failure;

        public ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default) => throw failure;
    }
}
