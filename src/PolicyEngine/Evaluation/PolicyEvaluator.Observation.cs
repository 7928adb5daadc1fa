using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Json;

namespace PolicyEngine;

// The evaluator, part 4 of 4: metrics, tracing and the DecisionMade audit event.
public sealed partial class PolicyEvaluator
{
    private Decision Finish(PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        if (PolicyTelemetry.Decisions.Enabled || PolicyTelemetry.Source.HasListeners())
        {
            Observe(identity, tool, decision);
        }

        if (DecisionMade is { } handlers)
        {
            Publish(handlers, identity, tool, args, dictionary, decision);
        }

        return decision;
    }

    /// <summary>Metrics and tracing; a throwing listener must not turn a decision into an exception.</summary>
    private static void Observe(PolicyIdentity identity, string tool, Decision decision)
    {
        try
        {
            if (PolicyTelemetry.Decisions.Enabled)
            {
                PolicyTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("kind", PolicyTelemetry.KindName(decision.Kind)));
            }

            if (PolicyTelemetry.Source.HasListeners())
            {
                using var activity = PolicyTelemetry.Source.StartActivity("policyengine.evaluate", ActivityKind.Internal);
                if (activity is not null)
                {
                    activity.SetTag("policyengine.tool", tool);
                    activity.SetTag("policyengine.identity", identity.Id);
                    activity.SetTag("policyengine.decision", PolicyTelemetry.KindName(decision.Kind));
                    activity.SetTag("policyengine.rule", decision.Rule);
                    activity.SetTag("policyengine.policy_version", decision.PolicyVersion);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Observability is best effort; the decision stands.
        }
    }

    private void Publish(EventHandler<DecisionEvent> handlers, PolicyIdentity identity, string tool, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, Decision decision)
    {
        // Arguments that cannot be read (a disposed JsonDocument, a throwing dictionary) still give an event: the
        // decision is what the audit trail must not lose.
        var sha256 = string.Empty;
        var names = new List<string>();
        try
        {
            sha256 = Convert.ToHexStringLower(SHA256.HashData(CanonicalArguments(args, dictionary)));
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
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            sha256 = string.Empty;
            names.Clear();
        }

        try
        {
            handlers(this, new DecisionEvent(_time.GetUtcNow(), identity.Id, tool, decision, sha256, names));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Auditing must never change or break a decision.
        }
    }
}
