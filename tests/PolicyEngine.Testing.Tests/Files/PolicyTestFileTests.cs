namespace PolicyEngine.Testing.Tests.Files;

/// <summary>Policy test files: parsing, validation with pointers, running in order with one store.</summary>
public class PolicyTestFileTests
{
    private const string Policy = """
        {
          "version": "2", "default": "deny",
          "tools": {
            "create_refund": {
              "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000, "on_deny": "Refunds over 100.00 need a human" } ],
              "limits": [ { "counter": "refunds", "window": "minute", "max": 2, "scope": "grant" } ]
            },
            "delete_user": { "require": [ { "path": "identity.roles", "op": "contains", "value": "admin" } ] }
          }
        }
        """;

    private static string File(string cases) => "{\"policy\": " + Policy + ", \"cases\": [" + cases + "]}";

    [Fact]
    public void Run_CasesInOrder_ShareOneStoreAndClock()
    {
        var file = PolicyTestFile.Parse(File("""
            { "name": "first two pass", "identity": "alice", "tool": "create_refund", "args": {"amount": 5}, "at": "2026-03-01T10:00:00Z", "repeat": 2, "expect": "allow" },
            { "name": "third is limited", "identity": "alice", "tool": "create_refund", "args": {"amount": 5}, "expect": "rate_limited", "rule": "/tools/create_refund/limits/0" },
            { "name": "next minute", "identity": "alice", "tool": "create_refund", "args": {"amount": 5}, "at": "2026-03-01T10:01:00Z", "expect": "allow" },
            { "name": "too large", "identity": "bob", "tool": "create_refund", "args": {"amount": 10001}, "expect": "deny", "reason": "need a human" },
            { "identity": {"id": "carol", "roles": ["admin"]}, "tool": "delete_user", "expect": "allow" }
            """));
        var results = file.Run();
        Assert.All(results, r => Assert.True(r.Passed, r.ToString()));
        Assert.Equal("#5", file.Cases[4].Name);
    }

    [Fact]
    public void Run_WrongExpectation_SaysExpectedAndGot()
    {
        var file = PolicyTestFile.Parse(File("""
            { "name": "limit", "identity": "alice", "tool": "create_refund", "repeat": 3, "expect": "allow" },
            { "name": "rule", "identity": "bob", "tool": "create_refund", "args": {"amount": 10001}, "expect": "deny", "rule": "/tools/create_refund/require/0" }
            """));
        var results = file.Run();
        Assert.Equal("case \"limit\": expected allow, got rate_limited by /tools/create_refund/limits/0 (\"rate limit reached: refunds allows 2 per minute\") (call 3 of 3)", results[0].ToString());
        Assert.StartsWith("case \"rule\": expected deny by /tools/create_refund/require/0, got deny by /tools/create_refund/deny_if/0", results[1].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RunCase_LaterCase_ReplaysEarlierOnes()
    {
        var file = PolicyTestFile.Parse(File("""
            { "name": "a", "identity": "alice", "tool": "create_refund", "repeat": 2, "expect": "allow" },
            { "name": "b", "identity": "alice", "tool": "create_refund", "expect": "rate_limited" }
            """));
        Assert.True(file.RunCase("b").Passed);
        Assert.Throws<ArgumentException>(() => file.RunCase("zz"));
    }

    [Fact]
    public void Parse_InvalidFile_ListsEveryProblemWithPointers()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyTestFile.Parse("""
            { "policy": {"version": "2", "default": "maybe"}, "cases": [
              { "tool": 5, "expect": "allowed", "repeat": 0, "extra": 1 },
              { "name": "x", "tool": "t", "expect": "deny" }, { "name": "x", "tool": "t", "expect": "deny" }
            ], "typo": true }
            """));
        var pointers = ex.Errors.Select(e => e.Pointer).ToList();
        Assert.Contains("/typo", pointers);
        Assert.Contains("/policy/default", pointers);
        Assert.Contains("/cases/0/tool", pointers);
        Assert.Contains("/cases/0/expect", pointers);
        Assert.Contains("/cases/0/repeat", pointers);
        Assert.Contains("/cases/0/extra", pointers);
        Assert.Contains("/cases/2/name", pointers);
    }

    [Fact]
    public void Load_RelativePolicyPath_ResolvedAgainstTheFile()
    {
        var dir = Directory.CreateTempSubdirectory("policytests").FullName;
        System.IO.File.WriteAllText(Path.Combine(dir, "p.json"), Policy);
        var path = Path.Combine(dir, "p.tests.json");
        System.IO.File.WriteAllText(path, """{"policy": "p.json", "cases": [{"name": "ok", "tool": "create_refund", "expect": "allow"}]}""");
        Assert.Equal([[path, "ok"]], PolicyTestFile.TheoryRows(dir).ToList());
        PolicyTestFile.AssertCase(path, "ok");
    }

    [Fact]
    public void AssertCase_Failing_ThrowsWithTheFileAndCase()
    {
        var dir = Directory.CreateTempSubdirectory("policytests").FullName;
        var path = Path.Combine(dir, "p.tests.json");
        System.IO.File.WriteAllText(path, File("""{"name": "wrong", "tool": "nope", "expect": "allow"}"""));
        var ex = Assert.Throws<PolicyTestFailedException>(() => PolicyTestFile.AssertCase(path, "wrong"));
        Assert.StartsWith($"{path}: case \"wrong\": expected allow, got deny by (default deny)", ex.Message, StringComparison.Ordinal);
    }
}
