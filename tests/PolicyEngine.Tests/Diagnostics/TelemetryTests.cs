using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PolicyEngine.Tests.Diagnostics;

/// <summary>
/// Metrics and tracing listeners are process-wide: these tests share a collection with the allocation test, which
/// must not see another test's listener while it counts bytes.
/// </summary>
[Collection(TelemetryCollection.Name)]
public class TelemetryTests
{
    private static readonly ThreadLocal<bool> ThisTest = new();

    [Fact]
    public void Evaluate_ThrowingMeterListener_StillReturnsTheDecision()
    {
        var evaluator = TestPolicies.Evaluator("""{ "version": "2", "default": "deny", "tools": { "t": {} } }""");
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == PolicyTelemetry.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // Throw only for this test's own measurements: other tests measure concurrently on other threads.
        listener.SetMeasurementEventCallback<long>((_, _, _, _) =>
        {
            if (ThisTest.Value)
            {
                throw new InvalidOperationException("exporter down");
            }
        });
        listener.Start();

        ThisTest.Value = true;
        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", TestPolicies.Args("{}"));
        ThisTest.Value = false;

        Assert.Equal(DecisionKind.Allow, decision.Kind);
    }

    [Fact]
    public void Evaluate_ActivityListener_SeesOneActivityWithTheDecision()
    {
        var evaluator = TestPolicies.Evaluator("""{ "version": "2", "default": "deny", "tools": { "t": {} } }""");
        var seen = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PolicyTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if ((string?)activity.GetTagItem("policyengine.identity") == "tracer")
                {
                    lock (seen)
                    {
                        seen.Add(activity);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        evaluator.Evaluate(new PolicyIdentity("tracer"), "nope", TestPolicies.Args("{}"));

        var activity = Assert.Single(seen);
        Assert.Equal("deny", activity.GetTagItem("policyengine.decision"));
        Assert.Equal("(default deny)", activity.GetTagItem("policyengine.rule"));
    }
}
