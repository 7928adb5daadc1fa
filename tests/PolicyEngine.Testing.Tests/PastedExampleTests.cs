using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine;
using PolicyEngine.Testing;

namespace PolicyEngine.Testing.Tests.Docs;

/// <summary>The property test docs/testing.md tells users to paste, compiled and run as written.</summary>
public class PythonServerPolicyTests
{
    private static readonly PolicyDocument Policy = PolicyDocument.Parse("""
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "read_file": {
              "require": [ { "path": "args.path", "op": "path_under", "value": "/workspace" } ]
            },
            "execute_python_code": {
              "deny_if": [ { "path": "args.code", "op": "regex", "value": "\\b(import|from)\\s+(os|subprocess)\\b" } ],
              "limits": [ { "counter": "python", "window": "minute", "max": 10, "scope": "grant" } ]
            },
            "delete_*": {
              "require": [ { "path": "identity.roles", "op": "contains", "value": "admin" } ]
            }
          }
        }
        """);

    // Throws with a minimal counterexample when a non-admin can ever delete anything.
    internal static void Only_admins_delete() =>
        PolicyInvariants.NeverAllows(Policy, "delete_*", unless: id => id.HasRole("admin")).Assert();

    // Timed call sequences: bursts inside one minute, gaps across minute boundaries, several callers.
    [Fact]
    public void Python_runs_at_most_ten_times_a_minute_per_caller() =>
        PolicyInvariants.AdmitsAtMost(Policy, "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Assert();

    // The same kind of invariant, driven by FsCheck's [Property] (generation, shrinking, replay seed).
    [Property(MaxTest = 1000)]
    public Property Nothing_outside_the_workspace_is_read() =>
        Prop.ForAll(Arb.From(PolicyGen.CallsTo(Policy, "read_file"), PolicyGen.Shrink), call =>
        {
            var decision = new PolicyEvaluator(PolicyEngine.Policy.Compile(Policy)).Evaluate(call.Identity, call.Tool, call.Args);
            if (!decision.IsAllowed)
            {
                return true.ToProperty();
            }

            var full = Path.GetFullPath(call.Args.GetProperty("path").GetString()!.Replace('\\', '/'));
            return (full == "/workspace" || full.StartsWith("/workspace/", StringComparison.Ordinal))
                .Label($"{call} was allowed but resolves to {full}");
        });
}

/// <summary>The documented failure of <c>Only_admins_delete</c> happens.</summary>
public class PastedExampleTests(ITestOutputHelper output)
{
    [Fact]
    public void Only_admins_delete_FailsAsDocumented()
    {
        var ex = Assert.Throws<PolicyInvariantException>(PythonServerPolicyTests.Only_admins_delete);
        output.WriteLine(ex.Message);
        Assert.Contains("policy invariant violated: never allows \"delete_*\" unless the caller is exempt", ex.Message);
        Assert.Equal(System.Text.Json.JsonValueKind.String, Assert.Single(ex.Result.Counterexample).Identity.Attributes.GetProperty("roles").ValueKind);
    }
}
