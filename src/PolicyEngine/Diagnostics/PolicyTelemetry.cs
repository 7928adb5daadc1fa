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

    internal static readonly ActivitySource Source = new(Name, typeof(PolicyTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(Name, typeof(PolicyTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Decisions = Meter.CreateCounter<long>(
        DecisionsCounterName, unit: "{decision}", description: "Tool-call decisions by kind.");

    internal static readonly Counter<long> ShadowDisagreements = Meter.CreateCounter<long>(
        ShadowDisagreementsCounterName, unit: "{call}", description: "Calls a shadow candidate policy decided differently from the enforced policy, by tool and kinds.");
}
