using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;
using PolicyEngine.Testing;

namespace PolicyEngine.Tests.Evaluation;

/// <summary>
/// <see cref="PolicyExplainer"/> is the evaluator's walk with a recorder: over generated policies (version 1 and 2:
/// globs, hide, composites, identity paths, schemas, limits, approvals) and calls to them, the first step that did
/// not pass names the rule a fresh evaluator decides by, and an allow has no failing step.
/// </summary>
public class ExplainAgreementTests
{
    private static readonly Gen<(PolicyDocument Document, PolicyCall Call)> Cases =
        from document in PolicyGen.Documents()
        from call in PolicyGen.Calls(document)
        select (document, call);

    [Property(MaxTest = 400)]
    public Property Explain_FirstFailingStep_IsTheRuleEvaluateDecidesBy() =>
        Prop.ForAll(Cases.ToArbitrary(), c =>
        {
            var policy = Policy.Compile(c.Document);
            var clock = new FakeTimeProvider(c.Call.At ?? PolicyGen.Epoch);
            var decision = new PolicyEvaluator(policy, timeProvider: clock).Evaluate(c.Call.Identity, c.Call.Tool, c.Call.Args);

            var steps = PolicyExplainer.Explain(policy, c.Call.Identity, c.Call.Tool, c.Call.Args);

            var failing = steps.FirstOrDefault(s => !s.Passed);
            var agrees = decision.Kind switch
            {
                DecisionKind.Allow => failing is null,

                // Explaining consults no counter: a first call can only be rate-limited by limits sharing a counter.
                DecisionKind.RateLimited => failing is null,
                _ => failing?.Rule == decision.Rule,
            };
            return agrees.Label($"{c.Call} under {c.Document.ToJson()} → {decision}; explained: {string.Join(" | ", steps.Select(s => $"{(s.Passed ? "pass" : "FAIL")} {s.Rule}: {s.Detail}"))}");
        });

    [Fact]
    public void Explain_DeniedCall_DescribesEveryRuleAfterTheDenialToo()
    {
        var policy = Policy.Compile(PolicyDocument.Parse("""
            { "version": "2", "default": "deny", "tools": { "refund": {
                "require": [ { "path": "args.reason", "op": "exists", "value": true } ],
                "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100 } ],
                "limits": [ { "counter": "refunds", "window": "hour", "max": 5, "scope": "args.customer" } ],
                "approval": { "reason": "a person checks refunds" } } } }
            """));

        var steps = PolicyExplainer.Explain(policy, new PolicyIdentity("alice"), "refund", TestPolicies.Args("""{"amount": 500}"""));

        Assert.Equal(
            ["(hidden)", "/tools/refund", "/tools/refund/require/0", "/tools/refund/deny_if/0", "/tools/refund/limits/0", "/tools/refund/approval"],
            steps.Select(s => s.Rule));
        Assert.Equal([true, true, false, false, false, false], steps.Select(s => s.Passed));
        Assert.Contains("customer is missing", steps[4].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_UnreadableArguments_FailsLikeEvaluate()
    {
        var policy = Policy.Compile(PolicyDocument.Parse("""{ "version": "2", "default": "allow", "tools": { "t": { "require": [ { "path": "args.x", "op": "eq", "value": 1 } ] } } }"""));
        var document = System.Text.Json.JsonDocument.Parse("""{"x": 1}""");
        var args = document.RootElement;
        document.Dispose();

        var decision = new PolicyEvaluator(policy).Evaluate(new PolicyIdentity("a"), "t", args);
        var steps = PolicyExplainer.Explain(policy, new PolicyIdentity("a"), "t", args);

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal(decision.Rule, steps.First(s => !s.Passed).Rule);
    }
}
