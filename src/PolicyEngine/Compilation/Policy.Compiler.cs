using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;

namespace PolicyEngine;

// The policy, its compiler: each tool entry (and all_tools) into compiled rules, checks, limits and approval.
public sealed partial class Policy
{
    /// <summary>At most this many entries have their identity-only checks remembered per identity (8 bytes each).</summary>
    private const int MaxIdentityMemoSlots = 64;

    /// <summary>How many entries have an identity memo slot (<see cref="CompiledRules.IdentityMemoSlot"/>).</summary>
    internal int IdentityMemoSlots { get; private set; }

    private CompiledRules Compile(ToolPolicy tool, string pointer)
    {
        Verdict? actionDenial = null;
        if (tool.Action == ToolAction.Deny)
        {
            actionDenial = new Verdict(DecisionKind.Deny, tool.OnDeny ?? "this tool is disabled by the policy", pointer, Version);
        }

        var checks = new List<CompiledCheck>();
        AddChecks(checks, tool.Require, pointer + "/require", isRequire: true);
        AddChecks(checks, tool.DenyIf, pointer + "/deny_if", isRequire: false);

        CompiledApproval? approval = null;
        if (tool.Approval is { } rule)
        {
            var when = new List<CompiledPredicate>();
            foreach (var predicate in rule.When ?? [])
            {
                when.Add(CompilePredicate(predicate));
            }

            CompiledPredicate[]? approvers = null;
            if (rule.Approvers is { } approverPredicates)
            {
                approvers = new CompiledPredicate[approverPredicates.Count];
                for (var i = 0; i < approvers.Length; i++)
                {
                    approvers[i] = CompilePredicate(approverPredicates[i]);
                }
            }

            approval = new CompiledApproval([.. when], rule.Reason, rule.TimeToLive, pointer + "/approval", approvers, rule);
        }

        var limits = new List<CompiledLimit>();
        var index = 0;
        foreach (var limit in tool.Limits ?? [])
        {
            var reason = limit.OnDeny ?? $"rate limit reached: {limit.Counter} allows {limit.Max} per {limit.WindowText}";
            limits.Add(new CompiledLimit(limit, $"{pointer}/limits/{index++}", reason, Version));
        }

        var allow = new Verdict(DecisionKind.Allow, null, pointer, Version);
        var memoSlot = -1;
        if (actionDenial is null && tool.CompiledArgsSchema is null && checks.Count > 0
            && checks.TrueForAll(check => check.Predicate.ReadsIdentityOnly) && IdentityMemoSlots < MaxIdentityMemoSlots)
        {
            memoSlot = IdentityMemoSlots++;
        }

        return new CompiledRules(tool.Name, pointer, actionDenial, tool.CompiledArgsSchema, [.. checks], approval, [.. limits], allow, memoSlot);
    }

    private void AddChecks(List<CompiledCheck> checks, IReadOnlyList<PolicyPredicate>? predicates, string pointer, bool isRequire)
    {
        if (predicates is null)
        {
            return;
        }

        for (var i = 0; i < predicates.Count; i++)
        {
            var compiled = CompilePredicate(predicates[i]);
            var reason = predicates[i].OnDeny
                ?? (isRequire ? $"requirement not met: {compiled.Describe()}" : $"denied because {compiled.Describe()}");
            var rule = $"{pointer}/{i}";
            checks.Add(new CompiledCheck(compiled, isRequire, rule, new Verdict(DecisionKind.Deny, reason, rule, Version)));
        }
    }

    private static CompiledPredicate CompilePredicate(PolicyPredicate predicate) => predicate switch
    {
        ComparisonPredicate comparison => new ComparisonEvaluator(comparison),
        CompositePredicate composite => CompileComposite(composite),
        _ => throw new ArgumentException("unknown predicate type", nameof(predicate)),
    };

    private static CompiledPredicate CompileComposite(CompositePredicate composite)
    {
        var operands = new CompiledPredicate[composite.Operands.Count];
        for (var i = 0; i < operands.Length; i++)
        {
            operands[i] = CompilePredicate(composite.Operands[i]);
        }

        return IdentitySetEvaluator.Optimize(composite.Kind, operands, new CompositeEvaluator(composite.Kind, operands));
    }
}
