namespace PolicyEngine.Testing.Tests;

/// <summary>A check validates its whole options object before it searches, and names every wrong property.</summary>
public class PolicyCheckOptionsTests
{
    private static readonly PolicyInvariant AlwaysHolds = PolicyInvariants.NeverAllows(
        PolicyDocument.Parse("""{ "version": "2", "default": "deny", "tools": { "read": {} } }"""), "delete_*");

    [Fact]
    public void Check_SeveralWrongOptions_NamesEveryOneInOneException()
    {
        var error = Assert.Throws<ArgumentException>(() => AlwaysHolds.Check(new PolicyCheckOptions { Tests = 0, MaxShrinkAttempts = -1 }));

        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyCheckOptions.Tests must be at least 1 (it is 0)", error.Message, StringComparison.Ordinal);
        Assert.Contains("PolicyCheckOptions.MaxShrinkAttempts must not be negative", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_DefaultOptions_AreValid()
    {
        Assert.True(AlwaysHolds.Check(new PolicyCheckOptions { Tests = 10, Seed = 1 }).Passed);
        Assert.True(AlwaysHolds.Check(new PolicyCheckOptions()).Passed);
    }
}
