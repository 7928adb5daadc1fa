using System.Text.Json;

namespace PolicyEngine.Tests.Security;

/// <summary>A rollback returns only what this evaluator charged, once: a host bug or a replayed decision never frees quota.</summary>
public class CompletionTests
{
    private const string OnePerMinute = """{"version":"2","default":"allow","all_tools":{"limits":[{"counter":"c","window":"minute","max":1,"scope":"global"}]}}""";

    [Fact]
    public void Complete_DecisionOfAnotherEvaluatorSharingTheStore_IsIgnored()
    {
        var store = new InMemoryCounterStore();
        var policy = Policy.Compile(PolicyDocument.Parse(OnePerMinute));
        var first = new PolicyEvaluator(policy, store);
        var second = new PolicyEvaluator(policy, store);
        var alice = new PolicyIdentity("alice");

        var admitted = first.Evaluate(alice, "t", default(JsonElement));
        second.Complete(admitted, succeeded: false);

        Assert.Equal(DecisionKind.Allow, admitted.Kind);
        Assert.Equal(DecisionKind.RateLimited, first.Evaluate(alice, "t", default(JsonElement)).Kind);

        // The evaluator that made the decision can still roll it back, once.
        first.Complete(admitted, succeeded: false);
        first.Complete(admitted, succeeded: false);
        Assert.Equal(DecisionKind.Allow, first.Evaluate(alice, "t", default(JsonElement)).Kind);
        Assert.Equal(DecisionKind.RateLimited, first.Evaluate(alice, "t", default(JsonElement)).Kind);
    }

    [Fact]
    public async Task CompleteAsync_DecisionOfAnotherEvaluator_IsIgnored()
    {
        var store = new InMemoryCounterStore();
        var policy = Policy.Compile(PolicyDocument.Parse(OnePerMinute));
        var first = new PolicyEvaluator(policy, store);
        var second = new PolicyEvaluator(policy, store);
        var alice = new PolicyIdentity("alice");

        var admitted = await first.EvaluateAsync(alice, "t", default(JsonElement), TestContext.Current.CancellationToken);
        await second.CompleteAsync(admitted, succeeded: false, TestContext.Current.CancellationToken);

        Assert.Equal(DecisionKind.RateLimited, (await first.EvaluateAsync(alice, "t", default(JsonElement), TestContext.Current.CancellationToken)).Kind);
    }
}
