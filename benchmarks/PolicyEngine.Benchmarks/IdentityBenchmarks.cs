using System.Collections.Frozen;
using System.Text.Json;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S3 identity: 1,000 callers, each admin, dev or viewer (<c>identity.roles</c>); admin may <c>delete_repo</c>,
/// <c>push</c> and <c>read_file</c>, dev <c>push</c> and <c>read_file</c>, viewer <c>read_file</c>. Calls are random
/// (identity, tool) pairs. The policy uses <c>contains</c> on <c>identity.roles</c> and composite <c>any</c>.
/// Baseline: the same rules written by hand — a <see cref="FrozenDictionary{TKey, TValue}"/> from tool to the set of
/// roles it admits, tested against the caller's roles (a <c>string[]</c> the host keeps per caller, as the engine keeps
/// a <see cref="PolicyIdentity"/>). <see cref="SwitchOnRoleString"/> is a lower bound shown for reference: a compiled
/// <c>switch</c> on one role string and the tool name, with no table at all.
/// Targets: ≤ 2× baseline, 0 bytes per decision.
/// <see cref="Mixed"/> is the shape hosts see: one caller in ten has no roles at all (no <c>roles</c> attribute) and one
/// call in five names a tool the policy does not list (default deny); target ≤ 1.5× baseline, 0 bytes.
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
    private string[][] _roleLists = null!;
    private int[] _callers = null!;
    private string[] _tools = null!;
    private FrozenDictionary<string, FrozenSet<string>> _admits = null!;

    private static readonly string[] UnlistedTools = ["list_issues", "merge", "create_branch"];

    /// <summary>Whether callers without roles and calls of unlisted tools are mixed in.</summary>
    [Params(false, true)]
    public bool Mixed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _evaluator = new PolicyEvaluator(PolicyEngine.Policy.Compile(PolicyDocument.Parse(Policy)));
        var random = new Random(Calls.Seed);
        _identities = new PolicyIdentity[1_000];
        _roles = new string[_identities.Length];
        _roleLists = new string[_identities.Length][];
        for (var i = 0; i < _identities.Length; i++)
        {
            // Weighted like a real organisation: few admins, many viewers.
            var role = Roles[random.Next(10) switch { 0 => 0, < 5 => 1, _ => 2 }];
            if (Mixed && random.Next(10) == 0)
            {
                // A principal the identity provider gave no roles: no attribute at all, not an empty list.
                _roles[i] = string.Empty;
                _identities[i] = new PolicyIdentity($"user-{i}");
                _roleLists[i] = [];
                continue;
            }

            _roles[i] = Calls.Fresh(role);
            _identities[i] = PolicyIdentity.WithRoles($"user-{i}", Calls.Fresh(role));
            _roleLists[i] = [Calls.Fresh(role)];
        }

        _callers = new int[Calls.PerInvoke];
        _tools = new string[Calls.PerInvoke];
        for (var i = 0; i < Calls.PerInvoke; i++)
        {
            _callers[i] = random.Next(_identities.Length);
            _tools[i] = Calls.Fresh(Mixed && random.Next(5) == 0 ? UnlistedTools[random.Next(UnlistedTools.Length)] : Tools[random.Next(Tools.Length)]);
        }

        _admits = new Dictionary<string, FrozenSet<string>>
        {
            ["delete_repo"] = new[] { "admin" }.ToFrozenSet(StringComparer.Ordinal),
            ["push"] = new[] { "admin", "dev" }.ToFrozenSet(StringComparer.Ordinal),
            ["read_file"] = new[] { "admin", "dev", "viewer" }.ToFrozenSet(StringComparer.Ordinal),
        }.ToFrozenDictionary(StringComparer.Ordinal);

        var allowed = 0;
        for (var i = 0; i < Calls.PerInvoke; i++)
        {
            var engine = _evaluator.Evaluate(_identities[_callers[i]], _tools[i], default(JsonElement)).Kind;
            var baseline = Decide(_admits, _roleLists[_callers[i]], _tools[i]);
            var reference = Decide(_roles[_callers[i]], _tools[i]);
            if (engine != baseline || engine != reference)
            {
                throw new InvalidOperationException($"engine and baselines disagree on ({_roles[_callers[i]]}, {_tools[i]}): {engine} vs {baseline} / {reference}");
            }

            allowed += engine == DecisionKind.Allow ? 1 : 0;
        }

        Console.WriteLine($"// S3: {allowed} of {Calls.PerInvoke} calls allowed");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls.PerInvoke)]
    public int Baseline()
    {
        var admits = _admits;
        var roleLists = _roleLists;
        var callers = _callers;
        var tools = _tools;
        var sum = 0;
        for (var i = 0; i < tools.Length; i++)
        {
            sum += (int)Decide(admits, roleLists[callers[i]], tools[i]);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int SwitchOnRoleString()
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

    private static DecisionKind Decide(FrozenDictionary<string, FrozenSet<string>> admits, string[] roles, string tool)
    {
        if (admits.TryGetValue(tool, out var admitted))
        {
            foreach (var role in roles)
            {
                if (admitted.Contains(role))
                {
                    return DecisionKind.Allow;
                }
            }
        }

        return DecisionKind.Deny;
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
