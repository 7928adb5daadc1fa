namespace PolicyEngine.Decisions;

/// <summary>
/// The one snake_case spelling of each <see cref="DecisionKind"/>: metrics tags, traces, audit records, the CLI's
/// <c>"decision"</c> field and the Testing package's files all read it here.
/// </summary>
internal static class DecisionKindNames
{
    /// <summary><c>allow</c>, <c>deny</c>, <c>rate_limited</c> or <c>needs_approval</c>.</summary>
    public static string Of(DecisionKind kind) => kind switch
    {
        DecisionKind.Allow => "allow",
        DecisionKind.Deny => "deny",
        DecisionKind.RateLimited => "rate_limited",
        _ => "needs_approval",
    };

    /// <summary>The kind a snake_case name spells, if any.</summary>
    public static bool TryParse(string? name, out DecisionKind kind)
    {
        switch (name)
        {
            case "allow": kind = DecisionKind.Allow; return true;
            case "deny": kind = DecisionKind.Deny; return true;
            case "rate_limited": kind = DecisionKind.RateLimited; return true;
            case "needs_approval": kind = DecisionKind.NeedsApproval; return true;
            default: kind = default; return false;
        }
    }
}
