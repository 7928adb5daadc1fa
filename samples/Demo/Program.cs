// A tour of PolicyEngine on its embedded default policy: each line is one tool call and the decision it gets.
using System.Text.Json;
using PolicyEngine;

using var stream = typeof(Program).Assembly.GetManifestResourceStream("default-policy.json")!;
using var reader = new StreamReader(stream);
var policy = Policy.Compile(PolicyDocument.Parse(reader.ReadToEnd()));
var evaluator = new PolicyEvaluator(policy);

var alice = PolicyIdentity.WithRoles("alice", "admin");
var bob = PolicyIdentity.WithRoles("bob", "viewer");

Console.WriteLine($"policy version {policy.Version}");
Show(bob, "list_customers", "{}");
Show(bob, "debug_dump", "{}");
Show(bob, "drop_tables", "{}");
Show(bob, "read_file", """{"path": "/workspace/notes.txt"}""");
Show(bob, "read_file", """{"path": "/workspace/../etc/passwd"}""");
Show(bob, "delete_repository", """{"name": "core"}""");
Show(alice, "delete_repository", """{"name": "core"}""");
Show(alice, "create_refund", """{"amount": 5000}""");
Show(alice, "create_refund", """{"amount": 50000, "reason": "damaged"}""");
Show(alice, "create_refund", """{"amount": 9000, "reason": "damaged"}""");
Show(alice, "create_refund", """{"amount": 9000, "reason": "late"}""");
Show(alice, "create_refund", """{"amount": 9000, "reason": "lost"}""");
for (var i = 0; i < 4; i++)
{
    Show(bob, "execute_python_code", """{"code": "print(1 + 1)"}""");
}

var pending = Show(alice, "execute_python_code", """{"code": "import subprocess; subprocess.run(['ls'])"}""");
if (pending.Approval is { } request)
{
    Console.WriteLine($"    … a person approves request {request.Id[..12]}");
    evaluator.Approve(request);
    Show(alice, "execute_python_code", """{"code": "import subprocess; subprocess.run(['ls'])"}""");
    Show(alice, "execute_python_code", """{"code": "import subprocess; subprocess.run(['rm', '-rf', '/'])"}""");
}

Decision Show(PolicyIdentity who, string tool, string json)
{
    using var args = JsonDocument.Parse(json);
    var decision = evaluator.Evaluate(who, tool, args.RootElement);
    var extra = decision.RetryAfter is { } wait ? $" (retry after {wait.TotalSeconds:0.#} s)" : string.Empty;
    Console.WriteLine($"{who.Id,-6} {tool,-20} {json,-60} → {decision.Kind,-13} {decision.Rule} {decision.Reason}{extra}");
    if (decision.IsAllowed)
    {
        evaluator.Complete(decision, succeeded: true);
    }

    return decision;
}
