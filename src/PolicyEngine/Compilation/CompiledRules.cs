using Json.Schema;
using PolicyEngine.Decisions;

namespace PolicyEngine.Compilation;

/// <summary>The compiled rules of one tool entry or of <c>all_tools</c>.</summary>
internal sealed class CompiledRules
{
    public CompiledRules(
        string? name,
        string pointer,
        Verdict? actionDenial,
        JsonSchema? argsSchema,
        CompiledCheck[] checks,
        CompiledApproval? approval,
        CompiledLimit[] limits,
        Verdict allow,
        int identityMemoSlot = -1)
    {
        Name = name;
        Pointer = pointer;
        ActionDenial = actionDenial;
        ArgsSchema = argsSchema;
        Checks = checks;
        Approval = approval;
        Limits = limits;
        Allow = allow;
        IdentityMemoSlot = identityMemoSlot;
        HasChecks = actionDenial is not null || argsSchema is not null || checks.Length > 0;
        SoleGrant = approval is null && limits is [{ IsPlainGrant: true } only] ? only : null;
    }

    /// <summary>
    /// The entry's one limit when that is all it charges: no approval, and the limit grant-scoped with a fixed cost
    /// (see <see cref="CompiledLimit.IsPlainGrant"/>). Such a call needs no plan: its checks, then one reservation.
    /// </summary>
    public CompiledLimit? SoleGrant { get; }

    /// <summary>Whether the entry has anything to check (<c>action</c>, <c>args_schema</c>, <c>require</c>, <c>deny_if</c>); a field, read on every call.</summary>
    public bool HasChecks { get; }

    /// <summary>
    /// When the entry's checks read nothing but the identity (and it has no <c>args_schema</c> or <c>action</c>), its
    /// slot in each identity's memo of check results (see <see cref="PolicyIdentity"/>); otherwise -1.
    /// </summary>
    public int IdentityMemoSlot { get; }

    /// <summary>The key under <c>tools</c>; <see langword="null"/> for <c>all_tools</c>.</summary>
    public string? Name { get; }

    /// <summary><c>/tools/&lt;name&gt;</c> or <c>/all_tools</c>.</summary>
    public string Pointer { get; }

    /// <summary>For <c>"action": "deny"</c>, the denial every call gets.</summary>
    public Verdict? ActionDenial { get; }

    public JsonSchema? ArgsSchema { get; }

    /// <summary><c>require</c> then <c>deny_if</c>, in document order.</summary>
    public CompiledCheck[] Checks { get; }

    public CompiledApproval? Approval { get; }

    public CompiledLimit[] Limits { get; }

    /// <summary>The allow returned when this entry admits a call that reserves no counter.</summary>
    public Verdict Allow { get; }

    /// <summary>Whether the entry needs no store: no limits and no approval, so its checks alone decide.</summary>
    public bool ChecksOnly => Approval is null && Limits.Length == 0;

    public bool IsEmpty => ActionDenial is null && ArgsSchema is null && Checks.Length == 0 && Approval is null && Limits.Length == 0;
}
