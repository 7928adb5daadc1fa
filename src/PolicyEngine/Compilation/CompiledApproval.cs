using PolicyEngine.Compilation.Predicates;

namespace PolicyEngine.Compilation;

/// <summary>An <c>approval</c> rule: when every <see cref="When"/> predicate holds, the call needs approval.</summary>
internal sealed class CompiledApproval(CompiledPredicate[] when, string reason, TimeSpan timeToLive, string pointer, CompiledPredicate[]? approvers = null, ApprovalRule? rule = null)
{
    public CompiledPredicate[] When { get; } = when;

    public string Reason { get; } = reason;

    public TimeSpan TimeToLive { get; } = timeToLive;

    public string Pointer { get; } = pointer;

    /// <summary>Predicates over the approver's identity that must all hold; <see langword="null"/> when the rule names none.</summary>
    public CompiledPredicate[]? Approvers { get; } = approvers;

    /// <summary>How many distinct approvers must approve.</summary>
    public int MinApprovers { get; } = rule?.MinApprovers ?? 1;

    /// <summary>The <c>on_pending</c> text, or <see langword="null"/>.</summary>
    public string? OnPending { get; } = rule?.OnPending;

    /// <summary>The <c>preview</c> paths (each starting with <c>args.</c>).</summary>
    public IReadOnlyList<string> Preview { get; } = rule?.Preview ?? [];

    /// <summary>The <c>wait</c> mode, or <see cref="ApprovalWaitMode.Auto"/>.</summary>
    public ApprovalWaitMode Wait { get; } = rule?.Wait ?? ApprovalWaitMode.Auto;
}
