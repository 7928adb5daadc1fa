using System.Collections.Concurrent;

namespace PolicyEngine.Compilation;

/// <summary>A limit compiled for the counter stores: its counter, window, scope and cost source.</summary>
internal sealed class CompiledLimit
{
    public CompiledLimit(LimitRule rule, string pointer, string reason)
    {
        Rule = rule;
        Pointer = pointer;
        Reason = reason;
        ScopePath = rule.ScopeKind == LimitScopeKind.Argument ? new CompiledPath(rule.Scope) : null;
        CostPath = rule.CostFrom is not null ? new CompiledPath(rule.CostFrom) : null;
        GlobalKey = PolicyEvaluator.CounterKey(rule, "*");
    }

    /// <summary>The storage key of a <c>global</c> counter.</summary>
    public string GlobalKey { get; }

    /// <summary>Storage keys of a <c>tool</c> counter by tool name (bounded by the tools callers use).</summary>
    public ConcurrentDictionary<string, string> ToolKeys { get; } = new(StringComparer.Ordinal);

    public LimitRule Rule { get; }

    /// <summary><c>/tools/&lt;name&gt;/limits/&lt;i&gt;</c>.</summary>
    public string Pointer { get; }

    /// <summary>The rate-limited reason (the limit's <c>on_deny</c> or a generated one).</summary>
    public string Reason { get; }

    public CompiledPath? ScopePath { get; }

    public CompiledPath? CostPath { get; }

    // The last rate-limited decision made for this limit. Retry-afters are whole milliseconds, so a burst of refused
    // calls within a millisecond (or on a stopped test clock) shares one immutable decision instead of allocating each.
    private Decision? _lastLimited;

    /// <summary>The rate-limited decision for this limit with <paramref name="retryAfter"/>, reused when unchanged.</summary>
    public Decision RateLimited(TimeSpan retryAfter, string policyVersion)
    {
        if (Volatile.Read(ref _lastLimited) is { } last && last.RetryAfter == retryAfter)
        {
            return last;
        }

        var decision = new Decision(DecisionKind.RateLimited, Reason, Pointer, policyVersion, retryAfter: retryAfter);
        Volatile.Write(ref _lastLimited, decision);
        return decision;
    }
}
