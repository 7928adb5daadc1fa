using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using PolicyEngine.Decisions;
using PolicyEngine.Json;

namespace PolicyEngine.Diagnostics;

/// <summary>
/// What a decision leaves behind for the host: the <c>policyengine.decisions</c> metric, the
/// <c>policyengine.evaluate</c> activity, and the argument digest that audit events carry (the SHA-256 of the
/// canonical arguments and their sorted top-level names, never their values). Nothing here may change or break a
/// decision: every listener failure is swallowed.
/// </summary>
internal static class DecisionObserver
{
    /// <summary>Whether metrics or tracing listen (checked before anything else is computed).</summary>
    public static bool Listening => PolicyTelemetry.Decisions.Enabled || PolicyTelemetry.Errors.Enabled || PolicyTelemetry.Source.HasListeners();

    /// <summary>
    /// Metrics and tracing; a throwing listener must not turn a decision into an exception. A decision a failing store
    /// made also reports the store's exception (<see cref="PolicyTelemetry.ReportCaught"/>), as an event on its span.
    /// </summary>
    public static void Observe(string identityId, string tool, Decision decision)
    {
        Activity? activity = null;
        try
        {
            if (PolicyTelemetry.Decisions.Enabled)
            {
                PolicyTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("kind", DecisionKindNames.Of(decision.Kind)));
            }

            if (PolicyTelemetry.Source.HasListeners())
            {
                activity = PolicyTelemetry.Source.StartActivity("policyengine.evaluate", ActivityKind.Internal);
                if (activity is not null)
                {
                    activity.SetTag("policyengine.tool", tool);
                    activity.SetTag("policyengine.identity", identityId);
                    activity.SetTag("policyengine.decision", DecisionKindNames.Of(decision.Kind));
                    activity.SetTag("policyengine.rule", decision.Rule);
                    activity.SetTag("policyengine.policy_version", decision.PolicyVersion);
                }
            }

            if (decision.Verdict.StoreError is { } storeError)
            {
                // "(store unavailable)" says why: the store's exception, counted and on the decision's span.
                activity?.SetStatus(ActivityStatusCode.Error, "store unavailable");
                PolicyTelemetry.ReportCaught(storeError, "store", activity);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Observability is best effort; the decision stands.
        }
        finally
        {
            activity?.Dispose();
        }
    }

    /// <summary>
    /// The audit digest of a call's arguments: lowercase hex SHA-256 of their canonical JSON and their sorted
    /// top-level names. Arguments that cannot be read (a disposed JsonDocument, a throwing dictionary) give an empty
    /// digest and no names: the decision is what the audit trail must not lose.
    /// </summary>
    public static (string Sha256, List<string> Names) Digest(JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary)
    {
        var names = new List<string>();
        try
        {
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(CanonicalJson.ToCanonicalBytes(JsonObjects.Arguments(args, dictionary))));
            if (dictionary is not null)
            {
                names.AddRange(dictionary.Keys);
            }
            else if (args.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in args.EnumerateObject())
                {
                    names.Add(StringValue.GetName(property));
                }
            }

            names.Sort(StringComparer.Ordinal);
            return (sha256, names);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            names.Clear();
            return (string.Empty, names);
        }
    }
}
