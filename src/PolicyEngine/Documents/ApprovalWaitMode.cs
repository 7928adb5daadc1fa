namespace PolicyEngine;

/// <summary>How a call that needs approval waits for it (the <c>approval.wait</c> key, or the host's default).</summary>
public enum ApprovalWaitMode
{
    /// <summary>
    /// The host's choice: elicitation for a rule that names no approvers, otherwise <see cref="Return"/>. Never written
    /// in a document.
    /// </summary>
    Auto,

    /// <summary><c>"return"</c>: answer at once with the pending request's id; the agent retries the same call once approved.</summary>
    Return,

    /// <summary><c>"hold"</c>: keep the call open until an approver acts or the host's hold time runs out, with progress notifications.</summary>
    Hold,

    /// <summary>
    /// <c>"elicit"</c>: ask the calling user through MCP elicitation. That is the caller's own confirmation, not
    /// oversight, so a rule with <c>approvers</c> cannot use it.
    /// </summary>
    Elicit,
}
