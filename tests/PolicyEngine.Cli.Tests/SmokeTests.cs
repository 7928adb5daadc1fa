namespace PolicyEngine.Cli.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_Loads() => Assert.Equal("PolicyEngine", typeof(PolicyEngine.Documents.Placeholder).Assembly.GetName().Name);
}
