namespace PolicyEngine.Testing.Tests;

/// <summary><see cref="PolicyDiff"/> reports exactly the changed decisions on hand-made policy pairs.</summary>
public class PolicyDiffTests
{
    private const string Refunds = """
        {
          "version": "2",
          "default": "deny",
          "hide": ["delete_account"],
          "tools": {
            "list_customers": {},
            "create_refund": {
              "require": [ { "path": "args.reason", "op": "exists", "value": true } ],
              "deny_if": [ { "path": "args.amount", "op": "gt", "value": 10000 } ],
              "limits": [ { "counter": "refunds", "window": "hour", "max": 3, "scope": "grant" } ]
            }
          }
        }
        """;

    private static PolicyDiff Diff(string oldJson, string newJson) =>
        PolicyDiff.Compare(PolicyDocument.Parse(oldJson), PolicyDocument.Parse(newJson), calls: 2000);

    private static string Transitions(PolicyDiff diff) =>
        string.Join("\n", diff.Changes.Select(c => c.Tool + ": " + c));

    [Fact]
    public void Compare_SamePolicy_Identical()
    {
        var diff = Diff(Refunds, Refunds);
        Assert.True(diff.Identical);
        Assert.True(diff.CallsCompared >= 2000);
    }

    [Fact]
    public void Compare_ReorderedAndMigrated_Identical()
    {
        var v1 = Refunds.Replace("\"version\": \"2\"", "\"version\": \"1\"", StringComparison.Ordinal);
        Assert.True(Diff(v1, Refunds).Identical);
    }

    [Fact]
    public void Compare_BoundaryGtToGte_OnlyTheBoundaryChanges()
    {
        var diff = Diff(Refunds, Refunds.Replace("\"op\": \"gt\"", "\"op\": \"gte\"", StringComparison.Ordinal));
        Assert.Equal("create_refund: allow by /tools/create_refund → deny by /tools/create_refund/deny_if/0", Transitions(diff));
        var change = Assert.Single(diff.Changes);
        Assert.All(change.Examples, e => Assert.Equal(10000m, e.Args.GetProperty("amount").GetDecimal()));
    }

    [Fact]
    public void Compare_ToolUnhidden_SameKindOtherRule_ReportedOnlyWhenComparingRules()
    {
        var old = PolicyDocument.Parse(Refunds);
        var updated = PolicyDocument.Parse(Refunds.Replace("\"hide\": [\"delete_account\"],", "\"hide\": [],", StringComparison.Ordinal));
        Assert.True(PolicyDiff.Compare(old, updated, calls: 500).Identical);
        Assert.Equal("delete_account: deny by (hidden) → deny by (default deny)", Transitions(PolicyDiff.Compare(old, updated, calls: 500, compareRules: true)));
    }

    [Fact]
    public void Compare_NewToolListed_OnlyThatToolChanges()
    {
        var diff = Diff(Refunds, Refunds.Replace("\"list_customers\": {},", "\"list_customers\": {}, \"export_customers\": {},", StringComparison.Ordinal));
        Assert.Equal("export_customers: deny by (default deny) → allow by /tools/export_customers", Transitions(diff));
    }

    [Fact]
    public void Compare_LimitRaised_OnlyTheFourthRepeatedCallChanges()
    {
        var diff = Diff(Refunds, Refunds.Replace("\"max\": 3", "\"max\": 5", StringComparison.Ordinal));
        var change = Assert.Single(diff.Changes);
        Assert.Equal("create_refund: rate_limited by /tools/create_refund/limits/0 → allow by /tools/create_refund (on repetition 4 of the same call)", Transitions(diff));
        Assert.True(change.Repeated);
    }

    [Fact]
    public void Compare_RequireDropped_OnlyCallsWithoutAReasonChange()
    {
        var diff = Diff(Refunds, Refunds.Replace("\"require\": [ { \"path\": \"args.reason\", \"op\": \"exists\", \"value\": true } ],", string.Empty, StringComparison.Ordinal));
        Assert.Equal("create_refund: deny by /tools/create_refund/require/0 → allow by /tools/create_refund", Transitions(diff));
        Assert.All(Assert.Single(diff.Changes).Examples, e =>
            Assert.True(!e.Args.TryGetProperty("reason", out var r) || r.ValueKind == System.Text.Json.JsonValueKind.Null));
    }

    [Fact]
    public void Compare_DefaultFlipped_UnlistedToolsChange()
    {
        var diff = Diff(Refunds, Refunds.Replace("\"default\": \"deny\"", "\"default\": \"allow\"", StringComparison.Ordinal));
        var change = Assert.Single(diff.Changes);
        Assert.Equal(DecisionKind.Deny, change.OldKind);
        Assert.Equal(BuiltInRules.DefaultDeny, change.OldRule);
        Assert.Equal(DecisionKind.Allow, change.NewKind);
        Assert.Equal(BuiltInRules.DefaultAllow, change.NewRule);
        Assert.DoesNotContain(change.Tool, new[] { "list_customers", "create_refund", "delete_account" });
    }

    [Fact]
    public void Compare_SameSeed_SameReport()
    {
        var updated = Refunds.Replace("\"op\": \"gt\"", "\"op\": \"gte\"", StringComparison.Ordinal);
        Assert.Equal(
            string.Join("|", Diff(Refunds, updated).Changes.SelectMany(c => c.Examples).Select(e => e.ToString())),
            string.Join("|", Diff(Refunds, updated).Changes.SelectMany(c => c.Examples).Select(e => e.ToString())));
    }
}
