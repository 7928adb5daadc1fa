using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S3 identity: 1,000 callers, each admin, dev or viewer (<c>identity.roles</c>); admin may <c>delete_repo</c>,
/// <c>push</c> and <c>read_file</c>, dev <c>push</c> and <c>read_file</c>, viewer <c>read_file</c>. Calls are random
/// (identity, tool) pairs. The policy uses <c>contains</c> on <c>identity.roles</c> and composite <c>any</c>.
/// Baseline: a switch on the role. Targets: ≤ 2× baseline, 0 bytes per decision.
/// </summary>
[MemoryDiagnoser]
public class IdentityBenchmarks
{
    private const string Policy = """
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "delete_repo": {
              "require": [ { "path": "identity.roles", "op": "contains", "value": "admin", "on_deny": "admins only" } ]
            },
            "push": {
              "require": [
                {
                  "any": [
                    { "path": "identity.roles", "op": "contains", "value": "admin" },
                    { "path": "identity.roles", "op": "contains", "value": "dev" }
                  ],
                  "on_deny": "developers only"
                }
              ]
            },
            "read_file": {
              "require": [
                {
                  "any": [
                    { "path": "identity.roles", "op": "contains", "value": "admin" },
                    { "path": "identity.roles", "op": "contains", "value": "dev" },
                    { "path": "identity.roles", "op": "contains", "value": "viewer" }
                  ]
                }
              ]
            }
          }
        }
        """;

    private static readonly string[] Roles = ["admin", "dev", "viewer"];
    private static readonly string[] Tools = ["delete_repo", "push", "read_file"];

    private PolicyEvaluator _evaluator = null!;
    private PolicyIdentity[] _identities = null!;
    private string[] _roles = null!;
    private int[] _callers = null!;
    private string[] _tools = null!;

    [GlobalSetup]
    public void Setup()
    {
        _evaluator = new PolicyEvaluator(PolicyEngine.Policy.Compile(PolicyDocument.Parse(Policy)));
        var random = new Random(Calls.Seed);
        _identities = new PolicyIdentity[1_000];
        _roles = new string[_identities.Length];
        for (var i = 0; i < _identities.Length; i++)
        {
            // Weighted like a real organisation: few admins, many viewers.
            var role = Roles[random.Next(10) switch { 0 => 0, < 5 => 1, _ => 2 }];
            _roles[i] = Calls.Fresh(role);
            _identities[i] = PolicyIdentity.WithRoles($"user-{i}", Calls.Fresh(role));
        }

        _callers = new int[Calls.PerInvoke];
        _tools = new string[Calls.PerInvoke];
        for (var i = 0; i < Calls.PerInvoke; i++)
        {
            _callers[i] = random.Next(_identities.Length);
            _tools[i] = Calls.Fresh(Tools[random.Next(Tools.Length)]);
        }

        var allowed = 0;
        for (var i = 0; i < Calls.PerInvoke; i++)
        {
            var engine = _evaluator.Evaluate(_identities[_callers[i]], _tools[i], default(JsonElement)).Kind;
            var baseline = Decide(_roles[_callers[i]], _tools[i]);
            if (engine != baseline)
            {
                throw new InvalidOperationException($"engine and baseline disagree on ({_roles[_callers[i]]}, {_tools[i]}): {engine} vs {baseline}");
            }

            allowed += engine == DecisionKind.Allow ? 1 : 0;
        }

        Console.WriteLine($"// S3: {allowed} of {Calls.PerInvoke} calls allowed");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls.PerInvoke)]
    public int Baseline()
    {
        var roles = _roles;
        var callers = _callers;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            sum += (int)Decide(roles[callers[i]], tools[i]);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int Engine()
    {
        var evaluator = _evaluator;
        var identities = _identities;
        var callers = _callers;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            sum += (int)evaluator.Evaluate(identities[callers[i]], tools[i], default(JsonElement)).Kind;
        }

        return sum;
    }

    private static DecisionKind Decide(string role, string tool)
    {
        var allowed = role switch
        {
            "admin" => tool is "delete_repo" or "push" or "read_file",
            "dev" => tool is "push" or "read_file",
            "viewer" => tool is "read_file",
            _ => false,
        };
        return allowed ? DecisionKind.Allow : DecisionKind.Deny;
    }
}
