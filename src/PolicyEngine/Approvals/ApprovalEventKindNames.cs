namespace PolicyEngine.Approvals;

/// <summary>
/// The one snake_case spelling of each <see cref="ApprovalEventKind"/>, for audit records and webhook payloads.
/// (Compiled into PolicyEngine.ModelContextProtocol as a linked file: that package does not see the core's internals.)
/// </summary>
internal static class ApprovalEventKindNames
{
    /// <summary>The name of <paramref name="kind"/>: <c>requested</c>, <c>voted</c>, <c>approved</c>, <c>denied</c>, <c>expired</c>, <c>refused</c> or <c>consumed</c>.</summary>
    public static string Of(ApprovalEventKind kind) => kind switch
    {
        ApprovalEventKind.Requested => "requested",
        ApprovalEventKind.Voted => "voted",
        ApprovalEventKind.Approved => "approved",
        ApprovalEventKind.Denied => "denied",
        ApprovalEventKind.Expired => "expired",
        ApprovalEventKind.Refused => "refused",
        ApprovalEventKind.Consumed => "consumed",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an approval event kind"),
    };
}
