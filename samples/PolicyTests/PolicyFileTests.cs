using PolicyEngine.Testing;

namespace PolicyTests;

/// <summary>Every case of every <c>*.tests.json</c> under policies/, each shown as its own test.</summary>
public class PolicyFileTests
{
    public static IEnumerable<object[]> Cases => PolicyTestFile.TheoryRows(Policies.Directory);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Policy_case(string file, string name) => PolicyTestFile.AssertCase(file, name);
}
