namespace PolicyEngine;

/// <summary>
/// Tells people about approval transitions (a call is waiting, it was approved or denied): a webhook, a chat message,
/// an e-mail. Attach one to <see cref="PolicyEvaluator.ApprovalChanged"/> (the MCP adapter attaches every registered
/// notifier).
/// </summary>
public interface IApprovalNotifier
{
    /// <summary>
    /// Called on the thread that made the transition, which may be deciding a tool call: queue the work and return at
    /// once, never block and never throw (a failed notification must not change an approval or a decision).
    /// </summary>
    /// <param name="change">The transition (with the request, which holds no argument value beyond its opted-in preview).</param>
    void Notify(ApprovalEvent change);
}
