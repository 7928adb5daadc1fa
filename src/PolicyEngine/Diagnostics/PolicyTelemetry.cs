using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PolicyEngine;

/// <summary>
/// The names under which PolicyEngine publishes metrics (<see cref="System.Diagnostics.Metrics"/>) and traces
/// (<see cref="ActivitySource"/>). Both cost nothing while nobody listens.
/// </summary>
public static class PolicyTelemetry
{
    /// <summary>The name of the <see cref="Meter"/> and of the <see cref="ActivitySource"/>: <c>PolicyEngine</c>.</summary>
    public const string Name = "PolicyEngine";

    /// <summary>The counter of decisions, tagged <c>kind</c> (<c>allow</c>, <c>deny</c>, <c>rate_limited</c>, <c>needs_approval</c>).</summary>
    public const string DecisionsCounterName = "policyengine.decisions";

    /// <summary>
    /// The counter of shadow-mode disagreements (<see cref="ShadowPolicyEvaluator"/>), tagged <c>tool</c> and
    /// <c>kinds</c> (the enforced and the candidate decision's kinds, such as <c>allow-&gt;rate_limited</c>).
    /// </summary>
    public const string ShadowDisagreementsCounterName = "policyengine.shadow.disagreements";

    /// <summary>
    /// The name of the counter of exceptions the engine caught so that a decision stands: a counter or approval store
    /// that failed (tag <c>source</c> = <c>store</c>, and <c>type</c>, the exception's type) or a
    /// <see cref="PolicyEvaluator.DecisionMade"/> handler that threw (<c>source</c> = <c>listener</c>).
    /// </summary>
    public const string ErrorsCounterName = "policyengine.errors";

    internal static readonly ActivitySource Source = new(Name, typeof(PolicyTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(Name, typeof(PolicyTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Decisions = Meter.CreateCounter<long>(
        DecisionsCounterName, unit: "{decision}", description: "Tool-call decisions by kind.");

    internal static readonly Counter<long> ShadowDisagreements = Meter.CreateCounter<long>(
        ShadowDisagreementsCounterName, unit: "{call}", description: "Calls a shadow candidate policy decided differently from the enforced policy, by tool and kinds.");

    internal static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        ErrorsCounterName, unit: "{exception}", description: "Exceptions caught so that a decision stands, by source (store, listener) and type.");

    /// <summary>
    /// Reports an exception the engine caught: the <see cref="ErrorsCounterName"/> counter, and an <c>exception</c>
    /// event (OpenTelemetry's convention) on <paramref name="activity"/>, or else on the current activity. Never throws.
    /// </summary>
    internal static void ReportCaught(Exception error, string source, Activity? activity = null)
    {
        try
        {
            if (Errors.Enabled)
            {
                Errors.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("type", error.GetType().FullName));
            }

            (activity ?? Activity.Current)?.AddException(error, new TagList { { "policyengine.error.source", source } });
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Reporting is best effort.
        }
    }
}
