using System.Collections.Concurrent;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;
using PolicyEngine.Counters;
using PolicyEngine.Documents;

namespace PolicyEngine.Compilation;

/// <summary>A limit compiled for the counter stores: its counter, window, scope and cost source.</summary>
internal sealed class CompiledLimit
{
    public CompiledLimit(LimitRule rule, string pointer, string reason, string policyVersion)
    {
        Rule = rule;
        Pointer = pointer;
        Reason = reason;
        ScopePath = rule.ScopeKind == LimitScopeKind.Argument ? new CompiledPath(rule.Scope) : null;
        CostPath = rule.CostFrom is not null ? new CompiledPath(rule.CostFrom) : null;
        Prefix = CounterKeys.Prefix(rule);
        GlobalKey = CounterKeys.Build(Prefix, CounterKeys.Global, []);
        Limited = new Verdict(DecisionKind.RateLimited, reason, pointer, policyVersion);
        IsPlainGrant = rule.ScopeKind == LimitScopeKind.Grant && CostPath is null && rule.Cost <= rule.Max;
        PlainGrantRequest = new CounterRequest(null!, rule.Cost, rule.Max, rule.Window, rule.Algorithm);
    }

    /// <summary>
    /// Whether the limit is grant-scoped with a fixed cost it can ever admit: planning it reads nothing of the call and
    /// cannot deny, so the evaluator may reserve <see cref="PlainGrantRequest"/> directly.
    /// </summary>
    public bool IsPlainGrant { get; }

    /// <summary>The limit's request on the in-memory store's grant path (no key: the store counts it under the identity id).</summary>
    public readonly CounterRequest PlainGrantRequest;

    /// <summary>The part every key of this limit's counter starts with (see <see cref="CounterKeys"/>).</summary>
    public string Prefix { get; }

    /// <summary>
    /// The in-memory store's table of this limit's grant counters, last used (a hint the store checks before use: two
    /// evaluators of one policy may have two stores).
    /// </summary>
    public object? StoreTable;

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

    /// <summary>The rate-limited verdict of this limit (each <see cref="Decision"/> carries its own retry-after).</summary>
    public Verdict Limited { get; }
}
