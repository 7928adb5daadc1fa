using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine;
using PolicyEngine.Testing;

namespace PolicyTests;

/// <summary>What must always hold for the payments MCP server's policy, and for changes to it.</summary>
public class PaymentsPolicyTests
{
    private static readonly PolicyDocument Policy = Policies.Payments;

    [Fact]
    public void Cards_are_never_charged() =>
        PolicyInvariants.NeverAllows(Policy, "charge_*").Assert();

    [Fact]
    public void At_most_ten_refunds_an_hour_per_agent() =>
        PolicyInvariants.AdmitsAtMost(Policy, "create_refund", 10, per: TimeSpan.FromHours(1)).Assert();

    [Property(MaxTest = 1000)]
    public Property Allowed_refunds_are_positive_and_at_most_100_00() =>
        Prop.ForAll(Arb.From(PolicyGen.CallsTo(Policy, "create_refund"), PolicyGen.Shrink), call =>
        {
            var decision = new PolicyEvaluator(PolicyEngine.Policy.Compile(Policy)).Evaluate(call.Identity, call.Tool, call.Args);
            if (!decision.IsAllowed)
            {
                return true.ToProperty();
            }

            var amount = call.Args.GetProperty("amount");
            return (amount.ValueKind == JsonValueKind.Number && amount.GetDecimal() is > 0 and <= 10000).Label($"{call} was allowed");
        });

    [Fact]
    public void Lowering_the_hourly_refund_limit_only_tightens()
    {
        var proposed = PolicyDocument.Parse(Policy.ToJson().Replace("\"max\": 10,", "\"max\": 5,", StringComparison.Ordinal));
        Assert.NotEqual(Policy, proposed);
        PolicyInvariants.OnlyTightens(Policy, proposed).Assert();
    }

    [Fact]
    public void Allowing_a_new_currency_is_caught_as_a_loosening()
    {
        var proposed = PolicyDocument.Parse(Policy.ToJson().Replace("\"GBP\"", "\"GBP\", \"JPY\"", StringComparison.Ordinal));
        var result = PolicyInvariants.OnlyTightens(Policy, proposed).Check(new PolicyCheckOptions { Tests = 3000, Seed = 1 });
        Assert.False(result.Passed);
        Assert.Contains("JPY", result.Violation, StringComparison.Ordinal);
    }
}
