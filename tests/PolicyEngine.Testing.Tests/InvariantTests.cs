using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace PolicyEngine.Testing.Tests;

/// <summary>The invariant helpers find seeded bugs with minimal counterexamples, and do not flag correct policies.</summary>
public class InvariantTests(ITestOutputHelper output)
{
    private static readonly PolicyCheckOptions Options = new() { Tests = 1000, Seed = 42 };

    private static PolicyDocument PythonPolicy(int max) => PolicyDocument.Parse($$"""
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "list_files": {},
            "execute_python_code": {
              "deny_if": [ { "path": "args.code", "op": "regex", "value": "import\\s+(os|subprocess)" } ],
              "limits": [ { "counter": "python", "window": "minute", "max": {{max}}, "scope": "grant" } ]
            }
          }
        }
        """);

    /// <summary>
    /// Deleting needs the admin role and a confirmation on every delete tool; <paramref name="catchAll"/> is meant for
    /// read tools (<c>list_all</c>), and <c>*_all</c> is the seeded bug that lets <c>delete_all</c> through.
    /// </summary>
    private static PolicyDocument DeletePolicy(string catchAll, string composite) => PolicyDocument.Parse($$"""
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "get_*": {},
            "{{catchAll}}": {},
            "delete_user": { "require": [ { "{{composite}}": [
                { "path": "identity.role", "op": "eq", "value": "admin" },
                { "path": "args.confirm", "op": "eq", "value": true } ] } ] },
            "delete_project": { "require": [ { "{{composite}}": [
                { "path": "identity.role", "op": "eq", "value": "admin" },
                { "path": "args.confirm", "op": "eq", "value": true } ] } ] }
          }
        }
        """);

    private static bool IsAdmin(PolicyIdentity identity) => identity.HasAttributeItem("role", "admin");

    [Fact]
    public void AdmitsAtMost_OffByOneLimit_FindsElevenCallsInOneMinute()
    {
        var result = PolicyInvariants.AdmitsAtMost(PythonPolicy(11), "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Check(Options);
        output.WriteLine(result.ToString());
        Assert.False(result.Passed);
        Assert.Equal(11, result.Counterexample.Count);
        Assert.All(result.Counterexample, c => Assert.Equal("execute_python_code", c.Tool));
        Assert.Contains("11 calls of \"execute_python_code\" were admitted", result.Violation);
    }

    [Fact]
    public void AdmitsAtMost_CorrectLimit_Passes()
    {
        var result = PolicyInvariants.AdmitsAtMost(PythonPolicy(10), "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Check(Options);
        Assert.True(result.Passed, result.ToString());
        Assert.Equal(1000, result.Tests);
    }

    [Fact]
    public void AdmitsAtMost_LimitOfTenPerMinute_IsNotTenPerSecond()
    {
        var result = PolicyInvariants.AdmitsAtMost(PythonPolicy(10), "execute_python_code", 5, per: TimeSpan.FromMinutes(1)).Check(Options);
        Assert.False(result.Passed);
        Assert.Equal(6, result.Counterexample.Count);
    }

    [Fact]
    public void NeverAllows_GlobLetsDeleteAllThrough_FindsIt()
    {
        var buggy = DeletePolicy("*_all", "all");
        var result = PolicyInvariants.NeverAllows(buggy, "delete_*", unless: IsAdmin).Check(Options);
        output.WriteLine(result.ToString());
        Assert.False(result.Passed);
        var call = Assert.Single(result.Counterexample);
        Assert.EndsWith("_all", call.Tool, StringComparison.Ordinal);
        Assert.StartsWith("delete_", call.Tool, StringComparison.Ordinal);
        Assert.Equal("{}", JsonText.Compact(call.Args));
        Assert.Contains("was allowed (allow by /tools/*_all)", result.Violation);
    }

    [Fact]
    public void NeverAllows_AnyWhereAllWasMeant_FindsIt()
    {
        var buggy = DeletePolicy("list_all", "any");
        var result = PolicyInvariants.NeverAllows(buggy, "delete_*", unless: IsAdmin).Check(Options);
        output.WriteLine(result.ToString());
        Assert.False(result.Passed);
        var call = Assert.Single(result.Counterexample);
        Assert.False(IsAdmin(call.Identity));
        Assert.Equal("{\"confirm\":true}", JsonText.Compact(call.Args));
    }

    [Fact]
    public void NeverAllows_CorrectPolicy_Passes()
    {
        var correct = DeletePolicy("list_all", "all");
        var result = PolicyInvariants.NeverAllows(correct, "delete_*", unless: IsAdmin).Check(Options);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void NeverAllows_WithoutExemption_FindsTheAdmin()
    {
        var correct = DeletePolicy("list_all", "all");
        var result = PolicyInvariants.NeverAllows(correct, "delete_*").Check(Options);
        Assert.False(result.Passed);
        Assert.True(IsAdmin(Assert.Single(result.Counterexample).Identity));
    }

    [Fact]
    public void NeverAllows_ContainsOnAStringAttribute_FindsTheSubstringMatch()
    {
        // "contains" is a substring test on strings: a roles attribute that is the string "xadminy" passes it.
        var policy = PolicyDocument.Parse("""
            {"version":"2","default":"deny","tools":{"delete_user":{"require":[{"path":"identity.roles","op":"contains","value":"admin"}]}}}
            """);
        var result = PolicyInvariants.NeverAllows(policy, "delete_*", unless: id => id.HasRole("admin")).Check(Options);
        output.WriteLine(result.ToString());
        Assert.False(result.Passed);
        var roles = Assert.Single(result.Counterexample).Identity.Attributes.GetProperty("roles");
        Assert.Equal(System.Text.Json.JsonValueKind.String, roles.ValueKind);
        Assert.NotEqual("admin", roles.GetString());
    }

    [Fact]
    public void Assert_Violated_ThrowsWithThePlainWordsCounterexample()
    {
        var ex = Assert.Throws<PolicyInvariantException>(() =>
            PolicyInvariants.NeverAllows(DeletePolicy("*_all", "all"), "delete_*", unless: IsAdmin).Assert(Options));
        Assert.Contains("policy invariant violated: never allows \"delete_*\" unless the caller is exempt", ex.Message);
        Assert.Contains("replay with PolicyCheckOptions.Seed = 42", ex.Message);
        Assert.False(ex.Result.Passed);
    }

    [Fact]
    public void Check_SameSeed_SameCounterexample()
    {
        var invariant = PolicyInvariants.NeverAllows(DeletePolicy("*_all", "any"), "delete_*", unless: IsAdmin);
        var first = invariant.Check(new PolicyCheckOptions { Seed = 7 });
        var second = invariant.Check(new PolicyCheckOptions { Seed = 7 });
        Assert.Equal(first.ToString(), second.ToString());
    }

    [Fact]
    public void OnlyTightens_AddedDenyIfAndLowerLimit_Passes()
    {
        var old = PythonPolicy(10);
        var tighter = PolicyDocument.Parse("""
            {
              "version": "2",
              "default": "deny",
              "tools": {
                "list_files": { "deny_if": [ { "path": "args.path", "op": "starts_with", "value": "/etc" } ] },
                "execute_python_code": {
                  "deny_if": [ { "path": "args.code", "op": "regex", "value": "import\\s+(os|subprocess)" },
                               { "path": "args.code", "op": "contains", "value": "eval(" } ],
                  "limits": [ { "counter": "python", "window": "minute", "max": 5, "scope": "grant" } ]
                }
              }
            }
            """);
        Assert.True(PolicyInvariants.OnlyTightens(old, tighter).Check(Options).Passed);
    }

    [Fact]
    public void OnlyTightens_RaisedLimit_FindsTheEleventhCall()
    {
        var result = PolicyInvariants.OnlyTightens(PythonPolicy(10), PythonPolicy(20)).Check(Options);
        output.WriteLine(result.ToString());
        Assert.False(result.Passed);
        Assert.Equal(11, result.Counterexample.Count);
        Assert.Contains("policy old: rate_limited", result.Violation);
        Assert.Contains("policy new: allow", result.Violation);
    }

    [Fact]
    public void OnlyTightens_DroppedRequire_Fails()
    {
        var result = PolicyInvariants.OnlyTightens(DeletePolicy("list_all", "all"), DeletePolicy("*_all", "all")).Check(Options);
        Assert.False(result.Passed);
        Assert.EndsWith("_all", Assert.Single(result.Counterexample).Tool, StringComparison.Ordinal);
    }

    [Fact]
    public void DecidesLike_V1AndItsMigration_Passes()
    {
        var v1 = PolicyDocument.Parse("""
            {
              "version": "1",
              "default": "deny",
              "hide": ["delete_account"],
              "all_tools": { "limits": [ { "counter": "calls_per_minute", "window": "minute", "max": 6, "scope": "grant" } ] },
              "tools": {
                "list_customers": {},
                "create_refund": {
                  "require": [ { "path": "args.reason", "op": "exists", "value": true } ],
                  "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000 } ],
                  "limits":  [ { "counter": "refunds_per_hour", "window": "hour", "max": 3, "scope": "grant" } ]
                }
              }
            }
            """);
        var result = PolicyInvariants.DecidesLike(v1, v1.MigrateToLatest()).Check(Options);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void DecidesLike_BoundaryMoved_FindsTheBoundary()
    {
        var gt = PolicyDocument.Parse("""{"version":"2","default":"allow","tools":{"pay":{"deny_if":[{"path":"args.amount","op":"gt","value":10000}]}}}""");
        var gte = PolicyDocument.Parse("""{"version":"2","default":"allow","tools":{"pay":{"deny_if":[{"path":"args.amount","op":"gte","value":10000}]}}}""");
        var result = PolicyInvariants.DecidesLike(gt, gte).Check(Options);
        Assert.False(result.Passed);
        var call = Assert.Single(result.Counterexample);
        Assert.Equal(10000m, call.Args.GetProperty("amount").GetDecimal());
    }

    [Property(MaxTest = 300)]
    public Property ToProperty_CorrectPolicy_HoldsUnderFsCheck() =>
        PolicyInvariants.NeverAllows(DeletePolicy("list_all", "all"), "delete_*", unless: IsAdmin).ToProperty();

    [Fact]
    public void ToProperty_SeededBug_FsCheckFails()
    {
        var property = PolicyInvariants.NeverAllows(DeletePolicy("*_all", "all"), "delete_*", unless: IsAdmin).ToProperty();
        var ex = Assert.ThrowsAny<Exception>(() => Check.QuickThrowOnFailure(property));
        Assert.Contains("never allows \"delete_*\"", ex.Message);
    }
}
