namespace PolicyEngine;

/// <summary>
/// A request for a person to approve one exact call. <see cref="Id"/> fingerprints (policy version, identity id,
/// tool, canonical arguments), so approving it never approves a call with any other argument value.
/// </summary>
public sealed class ApprovalRequest
{
    internal ApprovalRequest(string id, string identityId, string tool, string reason, string rule, TimeSpan timeToLive, string policyVersion, Compilation.CompiledApproval? compiled = null)
    {
        Compiled = compiled;
        Id = id;
        IdentityId = identityId;
        Tool = tool;
        Reason = reason;
        Rule = rule;
        TimeToLive = timeToLive;
        PolicyVersion = policyVersion;
    }

    /// <summary>The call's fingerprint: lowercase hex SHA-256 of (policy version, identity id, tool, canonical arguments).</summary>
    public string Id { get; }

    /// <summary>The identity that made the call.</summary>
    public string IdentityId { get; }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary>Why approval is needed (the rule's <c>reason</c>).</summary>
    public string Reason { get; }

    /// <summary>The JSON Pointer of the approval rule, such as <c>/tools/create_refund/approval</c>.</summary>
    public string Rule { get; }

    /// <summary>How long an approval of this request stays usable once granted.</summary>
    public TimeSpan TimeToLive { get; }

    /// <summary>The version of the policy that asked for approval; an approval does not survive a policy change.</summary>
    public string PolicyVersion { get; }

    /// <summary>How the caller should wait (the rule's <c>wait</c>; <see cref="ApprovalWaitMode.Auto"/> leaves it to the host).</summary>
    public ApprovalWaitMode Wait => Compiled?.Wait ?? ApprovalWaitMode.Auto;

    /// <summary>
    /// Whether the rule names <c>approvers</c>: then only they approve, through an <see cref="IApprovalQueue"/>, and
    /// never the caller (no elicitation).
    /// </summary>
    public bool HasApprovers => Compiled?.Approvers is not null;

    /// <summary>What the agent is told while the call waits (the rule's <c>on_pending</c>), or <see langword="null"/>.</summary>
    public string? OnPending => Compiled?.OnPending;

    /// <summary>The compiled rule (preview paths, approvers, distinct approvers needed).</summary>
    internal Compilation.CompiledApproval? Compiled { get; }
}
