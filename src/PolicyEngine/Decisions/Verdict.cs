using System.Diagnostics;

namespace PolicyEngine.Decisions;

/// <summary>
/// The immutable part of a <see cref="Decision"/>: kind, reason, rule and policy version (plus the approval request or
/// the unenforced flag where those apply). Verdicts that depend only on the policy are built once when it is compiled;
/// a decision pairs one with what varies per call (a retry-after, a reservation handle), so returning a decision
/// allocates nothing.
/// </summary>
[DebuggerDisplay("{Kind} {Rule,nq}: {Reason,nq}")]
internal sealed class Verdict(
    DecisionKind kind,
    string? reason,
    string? rule,
    string policyVersion,
    ApprovalRequest? approval = null,
    bool unenforced = false,
    Exception? storeError = null)
{
    /// <summary>What <c>default(Decision)</c> reads as: a denial, never an allow.</summary>
    public static readonly Verdict NotDecided = new(
        DecisionKind.Deny, "no decision was made (an uninitialised Decision value)", BuiltInRules.NoDecision, string.Empty);

    public DecisionKind Kind { get; } = kind;

    public string? Reason { get; } = reason;

    public string? Rule { get; } = rule;

    public string PolicyVersion { get; } = policyVersion;

    public ApprovalRequest? Approval { get; } = approval;

    public bool IsUnenforced { get; } = unenforced;

    /// <summary>What the store threw, for a decision its failure made (a new verdict per failure: they are rare).</summary>
    public Exception? StoreError { get; } = storeError;

    /// <summary>This verdict, carrying <paramref name="error"/>.</summary>
    public Verdict WithStoreError(Exception error) => new(Kind, Reason, Rule, PolicyVersion, Approval, IsUnenforced, error);

    public override string ToString() => Reason is null ? $"{Kind} {Rule}" : $"{Kind} {Rule}: {Reason}";
}
