using PolicyEngine.Decisions;

namespace PolicyEngine.Audit;

/// <summary>The <c>type</c> of each audit record, and the fields each one carries besides <c>seq</c>, <c>time</c>, <c>prev</c> and <c>hash</c>.</summary>
public static class AuditRecordTypes
{
    /// <summary>
    /// <c>decision</c>: <c>identity</c>, <c>tool</c>, <c>kind</c>, <c>rule</c>, <c>reason</c>, <c>policy_version</c>,
    /// <c>args_sha256</c>, <c>arg_names</c>, and when they apply <c>retry_after_ms</c>, <c>approval_id</c>, <c>unenforced</c>.
    /// </summary>
    public const string Decision = "decision";

    /// <summary>
    /// <c>shadow</c>: a call the shadow candidate decided differently: <c>identity</c>, <c>tool</c>, <c>kinds</c>,
    /// <c>enforced_kind</c>, <c>enforced_rule</c>, <c>candidate_kind</c>, <c>candidate_rule</c>, <c>candidate_reason</c>,
    /// <c>policy_version</c>, <c>candidate_policy_version</c>, <c>args_sha256</c>, <c>arg_names</c>.
    /// </summary>
    public const string Shadow = "shadow";

    /// <summary><c>approval</c>: <c>identity</c>, <c>tool</c>, <c>outcome</c>, <c>approval_id</c>, <c>rule</c>, <c>reason</c>, <c>policy_version</c>.</summary>
    public const string Approval = "approval";

    /// <summary>
    /// <c>approval_queue</c>: a transition of a queued approval request: <c>identity</c> (the caller), <c>tool</c>,
    /// <c>event</c> (<c>requested</c>, <c>voted</c>, <c>approved</c>, <c>denied</c>, <c>expired</c>, <c>refused</c>,
    /// <c>consumed</c>), <c>request_id</c>, and when they apply <c>approver</c>, <c>comment</c>, <c>outcome</c>.
    /// </summary>
    public const string ApprovalQueue = "approval_queue";

    /// <summary><c>policy</c>: <c>role</c> (enforced or shadow), <c>source</c>, <c>outcome</c>, <c>policy_version</c>, <c>problems</c>.</summary>
    public const string Policy = "policy";

    /// <summary><c>gap</c>: <c>dropped</c> records were lost here (the queue was full or a write failed).</summary>
    public const string Gap = "gap";

    /// <summary><c>open</c>: a writer opened the trail (a start or restart): <c>writer</c>, <c>continues_after</c> (the seq it follows).</summary>
    public const string Open = "open";

    /// <summary>The name a decision kind has in records and metrics: <c>allow</c>, <c>deny</c>, <c>rate_limited</c>, <c>needs_approval</c>.</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>Its name.</returns>
    public static string KindName(DecisionKind kind) => DecisionKindNames.Of(kind);
}
