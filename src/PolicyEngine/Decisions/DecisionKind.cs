namespace PolicyEngine;

/// <summary>The outcome of evaluating one tool call. When several apply, Deny &gt; RateLimited &gt; NeedsApproval &gt; Allow.</summary>
public enum DecisionKind
{
    /// <summary>The call may run.</summary>
    Allow,

    /// <summary>The call must not run; <see cref="Decision.Reason"/> says why.</summary>
    Deny,

    /// <summary>A limit is exhausted; <see cref="Decision.RetryAfter"/> says when the call could be admitted.</summary>
    RateLimited,

    /// <summary>A person must approve this exact call first; <see cref="Decision.Approval"/> describes the request.</summary>
    NeedsApproval,
}
