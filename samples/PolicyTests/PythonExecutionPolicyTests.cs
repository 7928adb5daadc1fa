using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine;
using PolicyEngine.Testing;

namespace PolicyTests;

/// <summary>What must always hold for the Python-execution MCP server's policy.</summary>
public class PythonExecutionPolicyTests
{
    private static readonly PolicyDocument Policy = Policies.PythonExecution;

    [Fact]
    public void Python_runs_at_most_ten_times_a_minute_per_caller() =>
        PolicyInvariants.AdmitsAtMost(Policy, "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Assert();

    [Fact]
    public void Nothing_is_ever_deleted_without_a_person_approving() =>
        PolicyInvariants.NeverAllows(Policy, "delete_*").Assert();

    [Fact]
    public void Admin_tools_are_never_allowed() =>
        PolicyInvariants.NeverAllows(Policy, "admin_*").Assert();

    // The same invariant as an FsCheck property: FsCheck generates, shrinks and prints the counterexample.
    [Property(MaxTest = 500)]
    public Property Os_and_subprocess_are_never_imported() =>
        Prop.ForAll(Arb.From(PolicyGen.CallsTo(Policy, "execute_python_code"), PolicyGen.Shrink), call =>
        {
            var decision = new PolicyEvaluator(PolicyEngine.Policy.Compile(Policy)).Evaluate(call.Identity, call.Tool, call.Args);
            var code = call.Args.TryGetProperty("code", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String ? c.GetString()! : string.Empty;
            var importsOs = System.Text.RegularExpressions.Regex.IsMatch(code, @"\b(import|from)\s+(os|subprocess)\b");
            return (!(decision.IsAllowed && importsOs)).Label($"{call} → {decision}");
        });

    [Property(MaxTest = 1000)]
    public Property Files_are_only_read_inside_the_workspace() =>
        Prop.ForAll(Arb.From(PolicyGen.CallsTo(Policy, "read_file"), PolicyGen.Shrink), call =>
        {
            var decision = new PolicyEvaluator(PolicyEngine.Policy.Compile(Policy)).Evaluate(call.Identity, call.Tool, call.Args);
            if (!decision.IsAllowed)
            {
                return true.ToProperty();
            }

            // Our own oracle: the path, normalised lexically, is /workspace or below it.
            var path = call.Args.GetProperty("path").GetString()!;
            var full = Path.GetFullPath(path.Replace('\\', '/'));
            return (full == "/workspace" || full.StartsWith("/workspace/", StringComparison.Ordinal)).Label($"{call} was allowed but resolves to {full}");
        });
}
