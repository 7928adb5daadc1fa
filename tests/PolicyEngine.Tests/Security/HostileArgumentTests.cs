using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.Tests.Json;

namespace PolicyEngine.Tests.Security;

/// <summary>Nothing escapes <c>Evaluate</c>: hostile or broken arguments are denied with <c>(invalid arguments)</c>, never thrown, never allowed.</summary>
public class HostileArgumentTests
{
    private const string Guarded = """
        {"version":"2","default":"allow","tools":{"t":{
          "require":[{"path":"args.s","op":"regex","value":"^[a-z]+$"}],
          "deny_if":[{"path":"args.n","op":"gt","value":10}],
          "limits":[{"counter":"c","window":"minute","max":1000,"scope":"args.s"}]}}}
        """;

    private static JsonElement DisposedArguments()
    {
        var document = JsonDocument.Parse("""{"s":"abc","n":1}""");
        var element = document.RootElement;
        document.Dispose();
        return element;
    }

    [Theory]
    [InlineData("""{"version":"2","default":"allow"}""")]
    [InlineData("""{"version":"2","default":"deny","tools":{"t":{}}}""")]
    [InlineData(Guarded)]
    public async Task Evaluate_ElementOfADisposedDocument_DeniesAsInvalidArguments(string policy)
    {
        var evaluator = TestPolicies.Evaluator(policy);
        var alice = new PolicyIdentity("alice");
        var events = new List<DecisionEvent>();
        evaluator.DecisionMade += (_, e) => events.Add(e);

        var sync = evaluator.Evaluate(alice, "t", DisposedArguments());
        var async = await evaluator.EvaluateAsync(alice, "t", DisposedArguments(), TestContext.Current.CancellationToken);

        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (sync.Kind, sync.Rule));
        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (async.Kind, async.Rule));
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public async Task Evaluate_DictionaryOfDisposedValues_DeniesAsInvalidArguments()
    {
        var evaluator = TestPolicies.Evaluator(Guarded);
        var alice = new PolicyIdentity("alice");
        var args = new Dictionary<string, JsonElement> { ["s"] = DisposedArguments(), ["n"] = DisposedArguments() };

        var sync = evaluator.Evaluate(alice, "t", args);
        var async = await evaluator.EvaluateAsync(alice, "t", args, TestContext.Current.CancellationToken);

        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (sync.Kind, sync.Rule));
        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (async.Kind, async.Rule));
    }

    [Fact]
    public void Evaluate_DictionaryThatThrowsWhenRead_DeniesAsInvalidArguments()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","tools":{"t":{"args_schema":{"type":"object"}}}}""");

        var decision = evaluator.Evaluate(new PolicyIdentity("alice"), "t", new ThrowingDictionary());

        Assert.Equal((DecisionKind.Deny, BuiltInRules.InvalidArguments), (decision.Kind, decision.Rule));
    }

    [Property(MaxTest = 300)]
    public Property Evaluate_AnyArguments_BothOverloadsAgreeAndNeverThrow() =>
        Prop.ForAll(JsonGenerators.Json().ToArbitrary(), Utf16Generators.Text().ToArbitrary(), (json, name) =>
        {
            // Any JSON value under a hostile name and under "s"; the two overloads must decide alike.
            var value = TestPolicies.Args(json);
            var text = "{" + Utf16Generators.JsonLiteral(name) + ":" + json + ",\"s\":" + json + "}";
            var element = TestPolicies.Args(text);
            var dictionary = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { [name] = value, ["s"] = value };
            var alice = new PolicyIdentity("alice");
            var byElement = TestPolicies.Evaluator(Guarded).Evaluate(alice, "t", element);
            var byDictionary = TestPolicies.Evaluator(Guarded).Evaluate(alice, "t", dictionary);
            var allowedOnlyIfLowercase = byElement.Kind != DecisionKind.Allow
                || (value.ValueKind == JsonValueKind.String && System.Text.RegularExpressions.Regex.IsMatch(value.GetString()!, "^[a-z]+$"));
            return (byElement.Kind == byDictionary.Kind && byElement.Rule == byDictionary.Rule && allowedOnlyIfLowercase)
                .Label($"{text}: {byElement.Kind} {byElement.Rule} vs {byDictionary.Kind} {byDictionary.Rule}");
        });

    [Fact]
    public void Evaluate_ScopeValueNestedPastTheCanonicalDepth_IsDeniedRatherThanCountedBySpelling()
    {
        // Past 256 levels canonical JSON keeps the text as written: "1" and "1.0" there would open two counters.
        const string policy = """{"version":"2","default":"allow","tools":{"t":{"limits":[{"counter":"c","window":"minute","max":1,"scope":"args.k"}]}}}""";
        var evaluator = TestPolicies.Evaluator(policy);
        var alice = new PolicyIdentity("alice");
        string Nested(int depth, string leaf) => """{"k":""" + new string('[', depth) + leaf + new string(']', depth) + "}";

        var deep = evaluator.Evaluate(alice, "t", TestPolicies.Args(Nested(257, "1")));
        var respelled = evaluator.Evaluate(alice, "t", TestPolicies.Args(Nested(257, "1.0")));

        Assert.Equal((DecisionKind.Deny, "/tools/t/limits/0"), (deep.Kind, deep.Rule));
        Assert.Contains("nested deeper than 256 levels", deep.Reason, StringComparison.Ordinal);
        Assert.Equal(DecisionKind.Deny, respelled.Kind);

        // At the depth canonical JSON still normalises, the two spellings are one value and share one counter.
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(alice, "t", TestPolicies.Args(Nested(256, "1"))).Kind);
        Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(alice, "t", TestPolicies.Args(Nested(256, "1.0"))).Kind);
    }

    private sealed class ThrowingDictionary : IReadOnlyDictionary<string, JsonElement>
    {
        public JsonElement this[string key] => throw new InvalidOperationException("broken");

        public IEnumerable<string> Keys => throw new InvalidOperationException("broken");

        public IEnumerable<JsonElement> Values => throw new InvalidOperationException("broken");

        public int Count => throw new InvalidOperationException("broken");

        public bool ContainsKey(string key) => throw new InvalidOperationException("broken");

        public IEnumerator<KeyValuePair<string, JsonElement>> GetEnumerator() => throw new InvalidOperationException("broken");

        public bool TryGetValue(string key, out JsonElement value) => throw new InvalidOperationException("broken");

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
