using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BenchmarkDotNet.Attributes;

namespace PolicyEngine.Benchmarks;

/// <summary>
/// S2 args: <c>create_charge</c> is allowed only when <c>args.amount &lt;= 50000</c>, <c>args.currency</c> is "usd"
/// or "eur", and <c>args.description</c> does not match <c>(?i)test</c>. Arguments arrive pre-parsed in the MCP
/// SDK's shape (<c>Dictionary&lt;string, JsonElement&gt;</c>), about half passing. Baseline: the same rules
/// hand-written against the <see cref="JsonElement"/>s. Targets: ≤ 1.5× baseline, 0 bytes per decision.
/// </summary>
[MemoryDiagnoser]
public class ArgumentBenchmarks
{
    private const string Policy = """
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "create_charge": {
              "require": [
                { "path": "args.amount", "op": "lte", "value": 50000, "on_deny": "charges over 500.00 need a human" },
                { "path": "args.currency", "op": "in", "value": ["usd", "eur"], "on_deny": "unsupported currency" }
              ],
              "deny_if": [
                { "path": "args.description", "op": "regex", "value": "(?i)test", "on_deny": "no test charges in production" }
              ]
            }
          }
        }
        """;

    private static readonly Regex TestPattern = new("(?i)test", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);

    private PolicyEvaluator _evaluator = null!;
    private PolicyIdentity _identity = null!;
    private string _tool = null!;
    private IReadOnlyDictionary<string, JsonElement>[] _args = null!;

    [GlobalSetup]
    public void Setup()
    {
        _evaluator = new PolicyEvaluator(PolicyEngine.Policy.Compile(PolicyDocument.Parse(Policy)));
        _identity = new PolicyIdentity("merchant-42");
        _tool = Calls.Fresh("create_charge");

        string[] currencies = ["usd", "usd", "eur", "eur", "usd", "gbp", "USD"];
        string[] descriptions =
        [
            "Order #1042", "Monthly subscription", "Invoice 2026-01 for consulting services", "Refill",
            "TEST charge", "integration test", "Latest order", "Annual plan renewal, 12 seats",
        ];
        var random = new Random(Calls.Seed);
        _args = new IReadOnlyDictionary<string, JsonElement>[Calls.PerInvoke];
        for (var i = 0; i < _args.Length; i++)
        {
            // Mostly small integer amounts (cents); some decimals, some over the limit, a few missing fields.
            var amount = random.Next(10) switch
            {
                0 => "60000",
                1 => (random.Next(100_000) / 100m).ToString(CultureInfo.InvariantCulture),
                _ => random.Next(1, 50_001).ToString(CultureInfo.InvariantCulture),
            };
            var json = new StringBuilder("{");
            json.Append("\"amount\":").Append(amount);
            json.Append(",\"currency\":\"").Append(currencies[random.Next(currencies.Length)]).Append('"');
            if (random.Next(8) != 0)
            {
                json.Append(",\"description\":\"").Append(descriptions[random.Next(descriptions.Length)]).Append('"');
            }

            json.Append(",\"customer\":\"cus_").Append(random.Next(1_000_000)).Append("\"}");
            _args[i] = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json.ToString())!;
        }

        var allowed = 0;
        for (var i = 0; i < _args.Length; i++)
        {
            var engine = _evaluator.Evaluate(_identity, _tool, _args[i]).Kind;
            var baseline = Decide(_tool, _args[i]);
            if (engine != baseline)
            {
                throw new InvalidOperationException($"engine and baseline disagree on {JsonSerializer.Serialize(_args[i])}: {engine} vs {baseline}");
            }

            allowed += engine == DecisionKind.Allow ? 1 : 0;
        }

        Console.WriteLine($"// S2: {allowed} of {_args.Length} calls allowed");
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Calls.PerInvoke)]
    public int Baseline()
    {
        var tool = _tool;
        var args = _args;
        var sum = 0;
        for (var i = 0; i < args.Length; i++)
        {
            sum += (int)Decide(tool, args[i]);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Calls.PerInvoke)]
    public int Engine()
    {
        var evaluator = _evaluator;
        var identity = _identity;
        var tool = _tool;
        var args = _args;
        var sum = 0;
        for (var i = 0; i < args.Length; i++)
        {
            sum += (int)evaluator.Evaluate(identity, tool, args[i]).Kind;
        }

        return sum;
    }

    /// <summary>The rules as a careful host would write them by hand: exact numbers, ordinal strings, linear regex.</summary>
    private static DecisionKind Decide(string tool, IReadOnlyDictionary<string, JsonElement> args)
    {
        if (!string.Equals(tool, "create_charge", StringComparison.Ordinal))
        {
            return DecisionKind.Deny;
        }

        if (!args.TryGetValue("amount", out var amount) || amount.ValueKind != JsonValueKind.Number)
        {
            return DecisionKind.Deny;
        }

        if (amount.TryGetInt64(out var cents) ? cents > 50_000 : !amount.TryGetDecimal(out var exact) || exact > 50_000m)
        {
            return DecisionKind.Deny;
        }

        if (!args.TryGetValue("currency", out var currency) || currency.ValueKind != JsonValueKind.String
            || !(currency.ValueEquals("usd"u8) || currency.ValueEquals("eur"u8)))
        {
            return DecisionKind.Deny;
        }

        if (args.TryGetValue("description", out var description) && description.ValueKind == JsonValueKind.String
            && IsTest(description))
        {
            return DecisionKind.Deny;
        }

        return DecisionKind.Allow;
    }

    private static bool IsTest(JsonElement description)
    {
        var raw = JsonMarshal.GetRawUtf8Value(description);
        var utf8 = raw[1..^1];
        if (utf8.Length <= 256 && utf8.IndexOf((byte)'\\') < 0)
        {
            Span<char> chars = stackalloc char[256];
            var written = Encoding.UTF8.GetChars(utf8, chars);
            return TestPattern.IsMatch(chars[..written]);
        }

        return TestPattern.IsMatch(description.GetString()!);
    }
}
