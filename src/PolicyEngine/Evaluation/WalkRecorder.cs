using System.Runtime.CompilerServices;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;

namespace PolicyEngine.Evaluation;

/// <summary>
/// What the evaluator's one walk over a call (hide, entry, arguments, checks, limits, approval) reports as it goes.
/// <see cref="PolicyEvaluator"/> walks with <see cref="NoRecorder"/>, a struct whose members are constants and empty
/// bodies, so the JIT specialises the walk and removes every recording branch: deciding costs what it cost before.
/// <see cref="PolicyExplainer"/> walks the same code with <see cref="StepRecorder"/>: explain is evaluate with a
/// recorder, so the two cannot disagree.
/// </summary>
/// <remarks>
/// While <see cref="Recording"/>, the walk does not stop at the first denial: it goes on to describe every rule,
/// keeps the first denial as the outcome, and neither reads nor writes the identity's check memo.
/// </remarks>
internal interface IWalkRecorder
{
    /// <summary>Whether steps are recorded (and the walk goes on past the first denial).</summary>
    bool Recording { get; }

    void Hidden(string tool, bool hidden);

    void Entry(Policy policy, string tool, CompiledRules? rules);

    void InvalidArguments(JsonValueKind kind);

    void Action(CompiledRules rules, Verdict denial);

    void Schema(CompiledRules rules, bool valid);

    /// <summary>A require or deny_if check: whether it held (<see langword="null"/>: it could not be evaluated), and its denial.</summary>
    void Check(CompiledCheck check, bool? holds, bool ambiguous, in EvaluationContext context, Verdict? denial);

    void Limit(CompiledLimit limit, Verdict? denial);

    void Approval(CompiledApproval approval, bool needed);
}

/// <summary>The evaluator's recorder: records nothing, costs nothing.</summary>
internal readonly struct NoRecorder : IWalkRecorder
{
    public bool Recording
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => false;
    }

    public void Hidden(string tool, bool hidden)
    {
    }

    public void Entry(Policy policy, string tool, CompiledRules? rules)
    {
    }

    public void InvalidArguments(JsonValueKind kind)
    {
    }

    public void Action(CompiledRules rules, Verdict denial)
    {
    }

    public void Schema(CompiledRules rules, bool valid)
    {
    }

    public void Check(CompiledCheck check, bool? holds, bool ambiguous, in EvaluationContext context, Verdict? denial)
    {
    }

    public void Limit(CompiledLimit limit, Verdict? denial)
    {
    }

    public void Approval(CompiledApproval approval, bool needed)
    {
    }
}

/// <summary>The explainer's recorder: one <see cref="ExplainStep"/> per rule the walk meets, in walk order.</summary>
internal readonly struct StepRecorder(List<ExplainStep> steps) : IWalkRecorder
{
    public List<ExplainStep> Steps { get; } = steps;

    public bool Recording => true;

    public void Hidden(string tool, bool hidden) =>
        Steps.Add(new ExplainStep(BuiltInRules.Hidden, !hidden, hidden ? $"\"{tool}\" is hidden by \"hide\"" : $"\"{tool}\" is not hidden"));

    public void Entry(Policy policy, string tool, CompiledRules? rules)
    {
        if (rules is null)
        {
            var allowed = policy.Default == DefaultAction.Allow;
            Steps.Add(new ExplainStep(
                allowed ? BuiltInRules.DefaultAllow : BuiltInRules.DefaultDeny,
                allowed,
                $"no entry under \"tools\" matches \"{tool}\"; the default is {(allowed ? "allow" : "deny")}"));
        }
        else
        {
            Steps.Add(new ExplainStep(rules.Pointer, true, $"\"{tool}\" matches the entry \"{rules.Name}\"{(rules.Name == tool ? string.Empty : " (a glob)")}"));
        }
    }

    public void InvalidArguments(JsonValueKind kind) =>
        Steps.Add(new ExplainStep(BuiltInRules.InvalidArguments, false, $"the arguments are {kind}, not an object"));

    public void Action(CompiledRules rules, Verdict denial) =>
        Steps.Add(new ExplainStep(rules.Pointer, false, $"\"action\": \"deny\" — {denial.Reason}"));

    public void Schema(CompiledRules rules, bool valid) =>
        Steps.Add(new ExplainStep(rules.Pointer + "/args_schema", valid, valid ? "the arguments match the schema" : "the arguments do not match the schema"));

    public void Check(CompiledCheck check, bool? holds, bool ambiguous, in EvaluationContext context, Verdict? denial)
    {
        var what = check.IsRequire ? "require" : "deny_if";
        var found = ambiguous ? check.Predicate.Undecided(context) ?? "an argument on its path appears twice"
            : holds is not { } held ? $"could not be evaluated ({denial?.Reason})"
            : held ? "holds" : "does not hold";
        var effect = denial is null ? "passes" : $"denies: {denial.Reason}";
        Steps.Add(new ExplainStep(check.Pointer, denial is null, $"{what} {check.Predicate.Describe()} — {found}, so it {effect}"));
    }

    public void Limit(CompiledLimit limit, Verdict? denial)
    {
        var rule = limit.Rule;
        var cost = rule.CostFrom is not null ? $"cost from {rule.CostFrom}" : $"cost {rule.Cost}";
        var described = $"limit \"{rule.Counter}\": at most {rule.Max} per {rule.WindowText} ({rule.Algorithm.ToString().ToLowerInvariant()}), scope {rule.Scope}, {cost}";
        Steps.Add(denial is null
            ? new ExplainStep(limit.Pointer, true, described + "; reserved only when every other check passes")
            : new ExplainStep(limit.Pointer, false, $"{described} — denies: {denial.Reason}"));
    }

    public void Approval(CompiledApproval approval, bool needed) =>
        Steps.Add(new ExplainStep(
            approval.Pointer,
            !needed,
            needed ? $"approval needed: {approval.Reason}{WhoApproves(approval)}" : "approval not needed: a \"when\" predicate does not hold"));

    /// <summary>Who may approve, for the explanation: the approvers' predicates and how many must agree.</summary>
    private static string WhoApproves(CompiledApproval approval)
    {
        if (approval.Approvers is not { } approvers)
        {
            return " (no approvers named: the host or, by elicitation, the caller confirms)";
        }

        var who = string.Join(" and ", approvers.Select(p => p.Describe()));
        var count = approval.MinApprovers == 1 ? "one approver" : $"{approval.MinApprovers} distinct approvers";
        return $" ({count} for whom {who}; never the caller)";
    }
}
