namespace PolicyEngine.Tests.Evaluation;

/// <summary>The evaluator validates its whole options object once, when it is built, and names every wrong property.</summary>
public class PolicyEvaluatorOptionsTests
{
    private static readonly Policy AllowAll = Policy.Compile(PolicyDocument.Parse("""{ "version": "1", "default": "allow" }"""));

    [Fact]
    public void Constructor_SeveralWrongOptions_NamesEveryOneInOneException()
    {
        var options = new PolicyEvaluatorOptions { StoreFailureMode = (StoreFailureMode)9, StoreTimeout = TimeSpan.FromSeconds(-3) };

        var error = Assert.Throws<ArgumentException>(() => new PolicyEvaluator(AllowAll, options: options));

        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyEvaluatorOptions.StoreFailureMode '9' is unknown", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyEvaluatorOptions.StoreTimeout must be positive", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DefaultOptions_AreValid()
    {
        Assert.Equal(DecisionKind.Allow, new PolicyEvaluator(AllowAll, options: new PolicyEvaluatorOptions()).Evaluate(new PolicyIdentity("alice"), "t", default(System.Text.Json.JsonElement)).Kind);
        Assert.Equal(DecisionKind.Allow, new PolicyEvaluator(AllowAll).Evaluate(new PolicyIdentity("alice"), "t", default(System.Text.Json.JsonElement)).Kind);
    }

    [Fact]
    public void Constructor_InfiniteStoreTimeout_IsValid()
    {
        _ = new PolicyEvaluator(AllowAll, options: new PolicyEvaluatorOptions { StoreTimeout = Timeout.InfiniteTimeSpan });
    }
}
