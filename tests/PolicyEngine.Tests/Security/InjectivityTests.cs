using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Approvals;
using PolicyEngine.Json;

namespace PolicyEngine.Tests.Security;

/// <summary>
/// Every encoding of identity ids, tool names and argument names or values into a fingerprint, hash or key is
/// injective over arbitrary UTF-16 (SECURITY.md): two different calls never share an approval, an audit hash or a
/// counter, even when they differ only in a lone surrogate or U+FFFD.
/// </summary>
public class InjectivityTests
{
    private const string ApprovalEverywhere = """{"version":"2","default":"deny","tools":{"*":{"approval":{"reason":"a person decides"}}}}""";

    [Fact]
    public void Approve_IdentitiesDifferingOnlyInALoneSurrogate_DoNotShareTheApproval()
    {
        var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
        var args = TestPolicies.Args("""{"a":1,"b":"x"}""");
        var pending = evaluator.Evaluate(new PolicyIdentity("u\uD800"), "run", args);
        evaluator.Approve(pending.Approval!);

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(new PolicyIdentity("u\uDC00"), "run", args).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(new PolicyIdentity("u\uFFFD"), "run", args).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("u\uD800"), "run", args).Kind);
    }

    [Fact]
    public void Approve_ToolsDifferingOnlyInALoneSurrogate_DoNotShareTheApproval()
    {
        var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
        var alice = new PolicyIdentity("alice");
        var args = TestPolicies.Args("""{"a":1}""");
        evaluator.Approve(evaluator.Evaluate(alice, "run\uD800", args).Approval!);

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run\uDC00", args).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run\uFFFD", args).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(alice, "run\uD800", args).Kind);
    }

    [Fact]
    public void Approve_DictionaryArgumentNamesDifferingOnlyInALoneSurrogate_DoNotShareTheApproval()
    {
        var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
        var alice = new PolicyIdentity("alice");
        var one = TestPolicies.Args("1");
        evaluator.Approve(evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["p\uD800"] = one }).Approval!);

        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["p\uDC00"] = one }).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["p\uFFFD"] = one }).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["p\uD800"] = one }).Kind);
    }

    [Property(MaxTest = 300)]
    public Property Approve_DifferentIdentityIds_NeverApprovesTheOther() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
            var args = TestPolicies.Args("""{"n":1}""");
            evaluator.Approve(evaluator.Evaluate(new PolicyIdentity(pair.A), "run", args).Approval!);
            return evaluator.Evaluate(new PolicyIdentity(pair.B), "run", args).Kind == DecisionKind.NeedsApproval
                && evaluator.Evaluate(new PolicyIdentity(pair.A), "run", args).Kind == DecisionKind.Allow;
        });

    [Property(MaxTest = 300)]
    public Property Approve_DifferentToolNames_NeverApprovesTheOther() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
            var alice = new PolicyIdentity("alice");
            evaluator.Approve(evaluator.Evaluate(alice, pair.A, default(JsonElement)).Approval!);
            return evaluator.Evaluate(alice, pair.B, default(JsonElement)).Kind == DecisionKind.NeedsApproval;
        });

    [Property(MaxTest = 300)]
    public Property Approve_DifferentArgumentNames_NeverApprovesTheOther_ThroughEitherOverload() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
            var alice = new PolicyIdentity("alice");
            var one = TestPolicies.Args("1");
            evaluator.Approve(evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { [pair.A] = one }).Approval!);
            var asElement = TestPolicies.Args("{" + Utf16Generators.JsonLiteral(pair.B) + ":1}");
            return evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { [pair.B] = one }).Kind == DecisionKind.NeedsApproval
                && evaluator.Evaluate(alice, "run", asElement).Kind == DecisionKind.NeedsApproval;
        });

    [Property(MaxTest = 300)]
    public Property Approve_DifferentArgumentStrings_NeverApprovesTheOther() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator(ApprovalEverywhere);
            var alice = new PolicyIdentity("alice");
            var a = TestPolicies.Args("""{"s":""" + Utf16Generators.JsonLiteral(pair.A) + "}");
            var b = TestPolicies.Args("""{"s":""" + Utf16Generators.JsonLiteral(pair.B) + "}");
            evaluator.Approve(evaluator.Evaluate(alice, "run", a).Approval!);
            return evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["s"] = b.GetProperty("s") }).Kind == DecisionKind.NeedsApproval
                && evaluator.Evaluate(alice, "run", b).Kind == DecisionKind.NeedsApproval
                && evaluator.Evaluate(alice, "run", new Dictionary<string, JsonElement> { ["s"] = a.GetProperty("s") }).Kind == DecisionKind.Allow;
        });

    [Property(MaxTest = 500)]
    public Property WriteString_AnyUtf16_ReadsBackAsTheSameCodeUnits() =>
        Prop.ForAll(Utf16Generators.Text().ToArbitrary(), text =>
        {
            var sink = new ByteSink(16);
            byte[] written;
            try
            {
                CanonicalJson.WriteString(ref sink, text.AsSpan());
                written = sink.Written.ToArray();
            }
            finally
            {
                sink.Dispose();
            }

            using var document = JsonDocument.Parse(written);
            return StringValue.GetChars(document.RootElement, []).SequenceEqual(text.AsSpan());
        });

    [Property(MaxTest = 300)]
    public Property DecisionMade_ArgumentsSha256_DiffersForDifferentNamesAndAgreesAcrossOverloads() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow"}""");
            var hashes = new List<string>();
            evaluator.DecisionMade += (_, e) => hashes.Add(e.ArgumentsSha256);
            var alice = new PolicyIdentity("alice");
            var one = TestPolicies.Args("1");
            evaluator.Evaluate(alice, "t", new Dictionary<string, JsonElement> { [pair.A] = one });
            evaluator.Evaluate(alice, "t", new Dictionary<string, JsonElement> { [pair.B] = one });
            evaluator.Evaluate(alice, "t", TestPolicies.Args("{" + Utf16Generators.JsonLiteral(pair.A) + ":1}"));
            return hashes.Count == 3 && hashes[0] != hashes[1] && hashes[0] == hashes[2];
        });

    [Property(MaxTest = 500)]
    public Property ApprovalFingerprint_DifferentParts_GiveDifferentIds() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), Utf16Generators.Text().ToArbitrary(), (pair, other) =>
        {
            // Different strings in any part, and the same text split differently between parts, must give different ids.
            (string Identity, string Tool)[] calls =
            [
                (pair.A, other), (pair.B, other), (other, pair.A), (other, pair.B), (pair.A + other, ""), ("", pair.A + other), (pair.A, other + pair.B),
            ];
            var distinctCalls = calls.Distinct().Count();
            var distinctIds = calls.Select(call => ApprovalFingerprint.Compute("v", call.Identity, call.Tool, "{}"u8)).Distinct(StringComparer.Ordinal).Count();
            return distinctIds == distinctCalls;
        });

    [Fact]
    public void IdentityId_LoneSurrogate_IsNotReadAsTheReplacementCharacter()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","all_tools":{"deny_if":[{"path":"identity.id","op":"eq","value":"u\uFFFD"}]}}""");

        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(new PolicyIdentity("u\uFFFD"), "t", default(JsonElement)).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("u\uD800"), "t", default(JsonElement)).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("u\uDC00"), "t", default(JsonElement)).Kind);
    }

    [Fact]
    public void IdentityAttributeNames_LoneSurrogate_AreKeptApart()
    {
        var attributes = new Dictionary<string, JsonElement> { ["r\uD800"] = TestPolicies.Args("\"x\"") };
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","all_tools":{"deny_if":[{"path":"identity.r\uFFFD","op":"exists","value":true}]}}""");

        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity("alice", attributes), "t", default(JsonElement)).Kind);
    }

    [Property(MaxTest = 200)]
    public Property GrantCounters_DifferentIdentityIds_AreCountedApart() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","all_tools":{"limits":[{"counter":"c","window":"minute","max":1,"scope":"grant"}]}}""");
            return evaluator.Evaluate(new PolicyIdentity(pair.A), "t", default(JsonElement)).Kind == DecisionKind.Allow
                && evaluator.Evaluate(new PolicyIdentity(pair.B), "t", default(JsonElement)).Kind == DecisionKind.Allow
                && evaluator.Evaluate(new PolicyIdentity(pair.A), "t", default(JsonElement)).Kind == DecisionKind.RateLimited;
        });

    [Property(MaxTest = 200)]
    public Property ArgumentScopedCounters_DifferentStrings_AreCountedApart() =>
        Prop.ForAll(Utf16Generators.DistinctPair().ToArbitrary(), pair =>
        {
            var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","all_tools":{"limits":[{"counter":"c","window":"minute","max":1,"scope":"args.k"}]}}""");
            var alice = new PolicyIdentity("alice");
            JsonElement Call(string k) => TestPolicies.Args("""{"k":""" + Utf16Generators.JsonLiteral(k) + "}");
            return evaluator.Evaluate(alice, "t", Call(pair.A)).Kind == DecisionKind.Allow
                && evaluator.Evaluate(alice, "t", Call(pair.B)).Kind == DecisionKind.Allow
                && evaluator.Evaluate(alice, "t", Call(pair.A)).Kind == DecisionKind.RateLimited;
        });
}
