using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Decisions;
using PolicyEngine.Evaluation;
using PolicyEngine.Json;
using PolicyEngine.Matching;

namespace PolicyEngine;

// The evaluator, the checks of one entry: action, args_schema, require and deny_if (with the identity memo), and approval.
public sealed partial class PolicyEvaluator
{
    /// <summary>The entry's own checks in order: action, args_schema, require and deny_if. Returns the first denial.</summary>
    private static Verdict? Check<TRecorder>(CompiledRules rules, in EvaluationContext context, Policy policy, ref TRecorder recorder)
        where TRecorder : struct, IWalkRecorder
    {
        Verdict? first = null;
        if (rules.ActionDenial is { } actionDenial)
        {
            if (!recorder.Recording)
            {
                return actionDenial;
            }

            recorder.Action(rules, actionDenial);
            first = actionDenial;
        }

        if (rules.ArgsSchema is { } schema)
        {
            Verdict? schemaDenial;
            try
            {
                schemaDenial = SchemaHolds(schema, context) ? null : ArgsSchemaDenial(rules, schema, context, policy);
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                schemaDenial = new Verdict(DecisionKind.Deny, RegexTimeoutReason, rules.Pointer + "/args_schema", policy.Version);
            }

            if (recorder.Recording)
            {
                recorder.Schema(rules, schemaDenial is null);
            }

            if (schemaDenial is not null)
            {
                if (!recorder.Recording)
                {
                    return schemaDenial;
                }

                first ??= schemaDenial;
            }
        }

        // Checks that read only the identity are decided once per identity and policy; the entry's allow stands for "passed".
        var slot = recorder.Recording ? -1 : rules.IdentityMemoSlot;
        if (slot >= 0 && context.Identity.Recall(policy, slot) is { } remembered)
        {
            return ReferenceEquals(remembered, rules.Allow) ? null : remembered;
        }

        var denial = RunChecks(rules, context, policy, ref recorder);
        if (slot >= 0)
        {
            context.Identity.Remember(policy, slot, denial ?? rules.Allow);
        }

        return first ?? denial;
    }

    private static Verdict? RunChecks<TRecorder>(CompiledRules rules, in EvaluationContext context, Policy policy, ref TRecorder recorder)
        where TRecorder : struct, IWalkRecorder
    {
        Verdict? first = null;
        foreach (var check in rules.Checks)
        {
            var ambiguous = false;
            bool? holds;
            Verdict? denial;
            try
            {
                holds = check.Predicate.Holds(context, ref ambiguous);
                denial = ambiguous
                    ? new Verdict(DecisionKind.Deny, check.Predicate.Undecided(context) ?? "an argument on the path of this rule appears more than once (a duplicated key)", check.Pointer, policy.Version)
                    : holds != check.IsRequire ? check.Denial : null;
            }
            catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
            {
                // Fail closed: a match that overran its time budget never counts as passing.
                holds = null;
                denial = new Verdict(DecisionKind.Deny, RegexTimeoutReason, check.Pointer, policy.Version);
            }

            if (recorder.Recording)
            {
                recorder.Check(check, holds, ambiguous, context, denial);
            }

            if (denial is not null)
            {
                if (!recorder.Recording)
                {
                    return denial;
                }

                first ??= denial;
            }
        }

        return first;
    }

    private static readonly string RegexTimeoutReason =
        $"an argument took longer than the {RegexBudget.MatchTimeout.TotalMilliseconds:0} ms regex time budget to match this rule's pattern";

    private static bool SchemaHolds(global::Json.Schema.JsonSchema schema, in EvaluationContext context) =>
        schema.Evaluate(ArgumentsElement(context), FlagOptions).IsValid;

    private static readonly global::Json.Schema.EvaluationOptions FlagOptions = new() { OutputFormat = global::Json.Schema.OutputFormat.Flag };

    private static readonly global::Json.Schema.EvaluationOptions ListOptions = new() { OutputFormat = global::Json.Schema.OutputFormat.List };

    private static Verdict ArgsSchemaDenial(CompiledRules rules, global::Json.Schema.JsonSchema schema, in EvaluationContext context, Policy policy)
    {
        (string Location, string Message)? detail;
        try
        {
            detail = FirstSchemaError(schema.Evaluate(ArgumentsElement(context), ListOptions));
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            detail = null;
        }

        var reason = detail is null
            ? "the arguments do not match the tool's schema"
            : $"the arguments do not match the tool's schema at \"{detail.Value.Location}\": {detail.Value.Message}";
        return new Verdict(DecisionKind.Deny, reason, rules.Pointer + "/args_schema", policy.Version);
    }

    private static (string Location, string Message)? FirstSchemaError(global::Json.Schema.EvaluationResults results)
    {
        if (results.Errors is { Count: > 0 } errors)
        {
            foreach (var (_, message) in errors)
            {
                return (results.InstanceLocation.ToString(), message);
            }
        }

        if (results.Details is { } details)
        {
            foreach (var detail in details)
            {
                if (FirstSchemaError(detail) is { } found)
                {
                    return found;
                }
            }
        }

        return null;
    }

    /// <summary>The arguments as one element (the dictionary form is serialised; schemas are not on the fastest path).</summary>
    private static JsonElement ArgumentsElement(in EvaluationContext context) => JsonObjects.Arguments(context.Args, context.ArgsDictionary);

    private static CompiledApproval? NeededApproval<TRecorder>(CompiledRules? rules, in EvaluationContext context, ref TRecorder recorder)
        where TRecorder : struct, IWalkRecorder
    {
        if (rules?.Approval is not { } approval)
        {
            return null;
        }

        var needed = true;
        foreach (var predicate in approval.When)
        {
            // An ambiguous argument here errs towards asking a person.
            var ambiguous = false;
            if (!predicate.Holds(context, ref ambiguous) && !ambiguous)
            {
                needed = false;
                break;
            }
        }

        if (recorder.Recording)
        {
            recorder.Approval(approval, needed);
        }

        return needed ? approval : null;
    }
}
