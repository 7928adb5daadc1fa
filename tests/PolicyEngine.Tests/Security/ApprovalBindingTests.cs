using System.Text.Json;

namespace PolicyEngine.Tests.Security;

/// <summary>Approvals are bound to the policy's content (its version hash), not to a <see cref="Policy"/> object.</summary>
public class ApprovalBindingTests
{
    private const string A = """{"version":"2","default":"deny","tools":{"run":{"approval":{"reason":"a person decides"}}}}""";
    private const string B = """{"version":"2","default":"deny","tools":{"run":{"approval":{"reason":"a person decides, again"}}}}""";

    [Fact]
    public void Approve_PolicyWithTheSameContentReloaded_KeepsTheApproval_ADifferentPolicyDoesNot()
    {
        var evaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(A)));
        var alice = new PolicyIdentity("alice");
        var args = TestPolicies.Args("""{"n":1}""");
        evaluator.Approve(evaluator.Evaluate(alice, "run", args).Approval!);

        evaluator.Update(Policy.Compile(PolicyDocument.Parse(B)));
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run", args).Kind);

        // Same content, new object, different whitespace: same version, so the unexpired approval still applies, once.
        evaluator.Update(Policy.Compile(PolicyDocument.Parse(A.Replace(",", ", ", StringComparison.Ordinal))));
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(alice, "run", args).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run", args).Kind);
    }
}
