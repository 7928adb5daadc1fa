using System.Text.Json;

namespace PolicyEngine.Tests;

/// <summary>Small helpers to build policies and calls from JSON text.</summary>
internal static class TestPolicies
{
    public static PolicyEvaluator Evaluator(string policyJson, TimeProvider? time = null) =>
        new(Policy.Compile(PolicyDocument.Parse(policyJson)), timeProvider: time);

    public static JsonElement Args(string json) => JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 10_000 }).RootElement.Clone();

    /// <summary>Whether one v2 predicate holds for the arguments: evaluated as the only deny_if of a tool.</summary>
    public static bool Holds(string predicateJson, string argsJson, PolicyIdentity? identity = null)
    {
        var evaluator = Evaluator($$"""{ "version": "2", "default": "allow", "tools": { "t": { "deny_if": [ {{predicateJson}} ] } } }""");
        var decision = evaluator.Evaluate(identity ?? new PolicyIdentity("alice"), "t", Args(argsJson));
        Assert.True(decision.Kind is DecisionKind.Allow or DecisionKind.Deny, decision.ToString());
        if (decision.Kind == DecisionKind.Deny)
        {
            Assert.Equal("/tools/t/deny_if/0", decision.Rule);
        }

        return decision.Kind == DecisionKind.Deny;
    }
}
