using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Tests.Json;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>Invariants of evaluation over generated policies and calls.</summary>
public class EvaluationPropertyTests
{
    private static Arbitrary<(EvaluationGenerators.PolicyShape Policy, EvaluationGenerators.Call[] Calls)> PolicyAndCalls() =>
        (from policy in EvaluationGenerators.Policies()
         from calls in Gen.ArrayOf(EvaluationGenerators.Calls(), 8)
         select (policy, calls)).ToArbitrary();

    private static PolicyEvaluator Evaluator(EvaluationGenerators.PolicyShape shape) =>
        new(Policy.Compile(PolicyDocument.Parse(shape.ToJson())));

    [Property(MaxTest = 200)]
    public Property Evaluate_GeneratedPolicies_NeverThrowsAndIsDeterministic() =>
        Prop.ForAll(PolicyAndCalls(), input =>
        {
            var first = Evaluator(input.Policy);
            var second = Evaluator(input.Policy);
            foreach (var call in input.Calls)
            {
                var a = first.Evaluate(call.Identity, call.Tool, call.Args);
                var b = second.Evaluate(call.Identity, call.Tool, call.Args);
                if ((a.Kind, a.Rule, a.Reason, a.Approval?.Id) != (b.Kind, b.Rule, b.Reason, b.Approval?.Id))
                {
                    return false.Label($"{call}: {a} vs {b}");
                }
            }

            return true.ToProperty();
        });

    [Property(MaxTest = 200)]
    public Property Evaluate_ReusedIdentities_DecideLikeFreshOnes() =>
        Prop.ForAll(
            (from identityOnly in Gen.Elements(true, false)
             from policy in EvaluationGenerators.Policies(identityOnly)
             from calls in Gen.ArrayOf(EvaluationGenerators.Calls(), 12)
             select (Policy: policy, Calls: calls)).ToArbitrary(),
            input =>
        {
            // Identity-only checks are remembered per identity object: reusing a few identities across every call
            // (and across the two tools' entries) must decide exactly as a new identity with the same attributes.
            var reused = Evaluator(input.Policy);
            var fresh = Evaluator(input.Policy);
            var shared = new Dictionary<string, PolicyIdentity>(StringComparer.Ordinal);
            foreach (var call in input.Calls.Concat(input.Calls))
            {
                var attributes = call.Identity.Attributes.GetRawText();
                if (!shared.TryGetValue(attributes, out var identity))
                {
                    shared[attributes] = identity = call.Identity;
                }

                var copy = new PolicyIdentity(call.Identity.Id, call.Identity.Attributes.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone()));
                var a = reused.Evaluate(identity, call.Tool, call.Args);
                var b = fresh.Evaluate(copy, call.Tool, call.Args);
                if ((a.Kind, a.Rule, a.Reason) != (b.Kind, b.Rule, b.Reason))
                {
                    return false.Label($"{call}: {a} vs {b}");
                }
            }

            return true.ToProperty();
        });

    [Property(MaxTest = 200)]
    public Property Evaluate_AddingADenyIf_NeverTurnsADenyIntoAnAllow() =>
        Prop.ForAll(PolicyAndCalls(), EvaluationGenerators.Predicate().ToArbitrary(), (input, extra) =>
        {
            var before = Evaluator(input.Policy);
            var tightened = input.Policy with
            {
                Entries = input.Policy.Entries.Select(e => (e.Name, AddDenyIf(e.Rules, extra))).ToList(),
                AllTools = AddDenyIf(input.Policy.AllTools ?? "{}", extra),
            };
            var after = Evaluator(tightened);
            foreach (var call in input.Calls)
            {
                var old = before.Evaluate(call.Identity, call.Tool, call.Args);
                var updated = after.Evaluate(call.Identity, call.Tool, call.Args);
                if (old.Kind == DecisionKind.Deny && updated.Kind != DecisionKind.Deny)
                {
                    return false.Label($"{call}: {old} became {updated}");
                }

                if (updated.Kind == DecisionKind.Allow && old.Kind != DecisionKind.Allow)
                {
                    return false.Label($"{call}: {old} became {updated}");
                }
            }

            return true.ToProperty();
        });

    [Property(MaxTest = 200)]
    public Property Evaluate_HiddenTool_IsAlwaysDeniedAsHidden() =>
        Prop.ForAll(PolicyAndCalls(), input =>
        {
            foreach (var call in input.Calls)
            {
                var hidden = input.Policy with { Hide = [.. input.Policy.Hide, call.Tool] };
                var evaluator = Evaluator(hidden);
                var decision = evaluator.Evaluate(call.Identity, call.Tool, call.Args);
                if (decision.Kind != DecisionKind.Deny || decision.Rule != BuiltInRules.Hidden || evaluator.IsVisible(call.Identity, call.Tool))
                {
                    return false.Label($"{call}: {decision}");
                }
            }

            return true.ToProperty();
        });

    [Property(MaxTest = 100)]
    public Property Evaluate_DefaultDenyWithoutTools_DeniesEverything() =>
        Prop.ForAll(Gen.ArrayOf(EvaluationGenerators.Calls(), 8).ToArbitrary(), calls =>
        {
            var evaluator = TestPolicies.Evaluator("""{ "version": "1", "default": "deny" }""");
            return calls.All(c => evaluator.Evaluate(c.Identity, c.Tool, c.Args) is { Kind: DecisionKind.Deny, Rule: BuiltInRules.DefaultDeny });
        });

    [Property(MaxTest = 200)]
    public Property Approve_OneCall_NeverApprovesAnotherCall() =>
        Prop.ForAll(EvaluationGenerators.Calls().ToArbitrary(), EvaluationGenerators.Calls().ToArbitrary(), (a, b) =>
        {
            var evaluator = TestPolicies.Evaluator("""{ "version": "2", "default": "deny", "tools": { "*": { "approval": { "reason": "every call" } } } }""");
            var pending = evaluator.Evaluate(a.Identity, a.Tool, a.Args);
            evaluator.Approve(pending.Approval!);
            var other = evaluator.Evaluate(b.Identity, b.Tool, b.Args);
            var same = a.Identity.Id == b.Identity.Id && a.Tool == b.Tool
                && PolicyEngine.Json.JsonValueComparer.DeepEquals(a.Args, b.Args);
            return (same ? other.Kind == DecisionKind.Allow : other.Kind == DecisionKind.NeedsApproval)
                .Label($"{a} approved; {b} → {other}");
        });

    [Property(MaxTest = 300)]
    public Property Evaluate_HostileArgumentValues_NeverThrowNorAllowWhatARequireForbids() =>
        Prop.ForAll(JsonGenerators.Json().ToArbitrary(), EvaluationGenerators.Predicate().ToArbitrary(), (json, predicate) =>
        {
            var evaluator = TestPolicies.Evaluator($$"""{ "version": "2", "default": "deny", "tools": { "t": { "require": [ {{predicate}} ] } } }""");
            var args = TestPolicies.Args("{\"x\": " + json + ", \"y\": " + json + ", \"list\": [" + json + "], \"n\": {\"m\": " + json + "}}");
            var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", args);
            var explained = PolicyExplainer.Explain(evaluator.Policy, new PolicyIdentity("alice"), "t", args);
            var requirePassed = explained.Single(s => s.Rule == "/tools/t/require/0").Passed;
            return (decision.Kind == (requirePassed ? DecisionKind.Allow : DecisionKind.Deny)).Label($"{args.GetRawText()} → {decision}");
        });

    private static string AddDenyIf(string rules, string predicate)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(rules)!.AsObject();
        if (node["deny_if"] is System.Text.Json.Nodes.JsonArray list)
        {
            list.Add(System.Text.Json.Nodes.JsonNode.Parse(predicate));
        }
        else
        {
            node["deny_if"] = new System.Text.Json.Nodes.JsonArray(System.Text.Json.Nodes.JsonNode.Parse(predicate));
        }

        return node.ToJsonString();
    }
}
