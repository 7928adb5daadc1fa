using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine;
using PolicyEngine.Testing;

namespace PolicyTests;

/// <summary>
/// What must always hold for the Pwno starter policy (samples/Pwno/policy.json), and how it relates to the seed's
/// recommendation it grew from (samples/Pwno/policy.v1.json). The table cases are in samples/Pwno/policy.tests.json.
/// </summary>
public class PwnoPolicyTests
{
    private static readonly PolicyDocument Policy = Policies.Pwno;

    // The seed's document as published: 10 execute_python_code calls per minute per grant, everything else denied.
    private const string SeedDocument = """
        {
          "version": "1",
          "default": "deny",
          "tools": {
            "execute_python_code": {
              "limits": [
                {
                  "counter": "execute_python_code_rate",
                  "window": "minute",
                  "max": 10,
                  "scope": "grant"
                }
              ]
            }
          }
        }
        """;

    /// <summary>Tools that run commands or code, or reach into other processes: never allowed without a person.</summary>
    public static TheoryData<string> CommandTools =>
        ["execute", "run", "run_command", "spawn_process", "execute_python_script", "pwncli", "attach", "kill_process"];

    /// <summary>Tools that reach the network: never allowed.</summary>
    public static TheoryData<string> NetworkTools =>
        ["fetch_repo", "install_python_packages", "get_retdec_status", "get_decompiled_code"];

    [Fact]
    public void Seed_document_is_kept_byte_for_byte_and_loads_unchanged()
    {
        var path = Path.Combine(Policies.Directory, "pwno", "policy.v1.json");
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(Encoding.UTF8.GetBytes(SeedDocument.ReplaceLineEndings("\n")), bytes);

        var seed = PolicyDocument.Parse(bytes);
        Assert.Equal("1", seed.Version);
        Assert.Equal(seed, Policies.PwnoSeed);
        Assert.Equal(seed, PolicyDocument.Parse(seed.ToJson()));
        PolicyInvariants.DecidesLike(seed, seed.MigrateToLatest()).Assert();
    }

    [Fact]
    public void Every_catalog_tool_has_its_own_decision()
    {
        using var catalog = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Policies.Directory, "pwno", "tools-list.json")));
        var tools = catalog.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(36, tools.Count);
        Assert.Equal(tools, Policy.Tools.Select(t => t.Name!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Python_runs_at_most_ten_times_a_minute_per_grant() =>
        PolicyInvariants.AdmitsAtMost(Policy, "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Assert();

    [Theory]
    [MemberData(nameof(CommandTools))]
    public void Command_tools_never_run_without_a_person(string tool) =>
        PolicyInvariants.NeverAllows(Policy, tool).Assert();

    [Theory]
    [MemberData(nameof(NetworkTools))]
    public void Network_tools_never_run(string tool) =>
        PolicyInvariants.NeverAllows(Policy, tool).Assert();

    [Fact]
    public void Starter_only_tightens_the_seed_for_execute_python_code() =>
        PolicyInvariants.OnlyTightens(Policies.PwnoSeed, OnlyTool(Policy, "execute_python_code")).Assert();

    [Fact]
    public void Starter_is_looser_than_the_seed_only_for_the_tools_it_opens()
    {
        // The seed denies every tool but one; the starter deliberately lets inspection and debugger tools run.
        var result = PolicyInvariants.OnlyTightens(Policies.PwnoSeed, Policy).Check(new PolicyCheckOptions { Tests = 3000 });
        Assert.False(result.Passed);
        var tool = result.Counterexample[0].Tool;
        Assert.NotEqual("execute_python_code", tool);
        Assert.Contains(Policy.Tools, t => t.Name == tool);
    }

    // The path and timeout bounds as an FsCheck property, against our own oracle.
    [Property(MaxTest = 1000)]
    public Property Python_never_runs_outside_the_workspace_or_unbounded() =>
        Prop.ForAll(Arb.From(PolicyGen.CallsTo(Policy, "execute_python_code"), PolicyGen.Shrink), call =>
        {
            var decision = new PolicyEvaluator(PolicyEngine.Policy.Compile(Policy)).Evaluate(call.Identity, call.Tool, call.Args);
            if (!decision.IsAllowed)
            {
                return true.ToProperty();
            }

            var timeoutOk = call.Args.TryGetProperty("timeout", out var timeout) && timeout.ValueKind == JsonValueKind.Number
                && timeout.GetDecimal() is >= 1 and <= 60;
            var cwdOk = !call.Args.TryGetProperty("cwd", out var cwd) || cwd.ValueKind == JsonValueKind.Null
                || (cwd.ValueKind == JsonValueKind.String && IsUnderWorkspace(cwd.GetString()!));
            return (timeoutOk && cwdOk).Label($"{call} was allowed ({decision.Rule})");
        });

    // Lexically, as the policy's path_under documents it: '\' separates too, and the path must be absolute.
    private static bool IsUnderWorkspace(string path)
    {
        path = path.Replace('\\', '/');
        if (!path.StartsWith('/') || path.Contains('\0', StringComparison.Ordinal))
        {
            return false;
        }

        var full = Path.GetFullPath(path);
        return full == "/workspace" || full.StartsWith("/workspace/", StringComparison.Ordinal);
    }

    /// <summary>The policy as it treats one tool: that tool's entry, the default, hide and all_tools.</summary>
    private static PolicyDocument OnlyTool(PolicyDocument document, string tool)
    {
        var json = JsonNode.Parse(document.ToJson())!.AsObject();
        var tools = json["tools"]!.AsObject();
        foreach (var name in tools.Select(p => p.Key).Where(n => n != tool).ToList())
        {
            tools.Remove(name);
        }

        return PolicyDocument.Parse(json.ToJsonString());
    }
}
