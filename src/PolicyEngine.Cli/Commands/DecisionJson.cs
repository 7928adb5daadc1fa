using PolicyEngine.Decisions;

namespace PolicyEngine.Cli;

/// <summary>The <c>eval</c> output line of a decision.</summary>
internal static class DecisionJson
{
    public static string KindName(DecisionKind kind) => DecisionKindNames.Of(kind);

    public static string Write(Decision decision) => Write(decision, decision.Reason);

    /// <summary>Writes the decision with <paramref name="reason"/> in place of its own reason (Intercept's texts).</summary>
    public static string Write(Decision decision, string? reason) => JsonLines.Object(w =>
    {
        w.WriteString("decision", KindName(decision.Kind));
        if (decision.Rule is not null)
        {
            w.WriteString("rule", decision.Rule);
        }

        if (reason is not null)
        {
            w.WriteString("reason", reason);
        }

        if (decision.RetryAfter is { } retryAfter)
        {
            // Rounded up: a retry-after must never be optimistic.
            w.WriteNumber("retry_after_ms", (long)Math.Ceiling(retryAfter.TotalMilliseconds));
        }

        if (decision.Approval is { } approval)
        {
            w.WriteString("approval_id", approval.Id);
        }
    });
}
