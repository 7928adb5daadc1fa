using System.Text;
using System.Text.Json;
using Json.Schema;
using System.Text.RegularExpressions;
using PolicyEngine.Matching;

namespace PolicyEngine.Tests.Security;

/// <summary>
/// Every regex in a policy (the <c>regex</c> operator, <c>args_schema</c>'s <c>pattern</c> and
/// <c>patternProperties</c>, Intercept's imported regexes) runs on the linear-time engine within
/// <see cref="RegexBudget"/>: a pattern over budget is refused at parse with its pointer, an accepted one is evaluated
/// on a worst-case input without hanging, and a match that overruns the run-time limit denies.
/// </summary>
public class RegexBudgetTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    private static string RegexPolicy(string pattern, string list = "require") =>
        "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"" + list + "\":[{\"path\":\"args.s\",\"op\":\"regex\",\"value\":"
        + JsonSerializer.Serialize(pattern) + "}]}}}";

    private static string SchemaPolicy(string schema) =>
        "{\"version\":\"2\",\"default\":\"deny\",\"tools\":{\"t\":{\"args_schema\":" + schema + "}}}";

    private static JsonElement Args(string s) => JsonSerializer.SerializeToElement(new { s });

    /// <summary>Runs <paramref name="work"/> under a generous guard, so a regression fails instead of hanging the run.</summary>
    private static T Guarded<T>(Func<T> work)
    {
        var task = Task.Run(work);
        Assert.True(task.Wait(Guard), "the evaluation did not finish within the guard");
        return task.Result;
    }

    public static TheoryData<string> Pathological() => new(
        @"([a-z]{1,50}){1,50}!",
        @"(\w{1,50}){1,50}!",
        @"\w{1,1000}",
        @"[a-z]{1,1000}!",
        @"[a-z]{1,101}",
        @"\w{1,100}\s?\w{1,100}\s?\w{1,100}!",
        @"(.*a){20}",
        @"(?:.*?a){99}x",
        @"((a|b|ab|ba){1,5}){1,10}!",
        @"([a-z]{1,10}[a-y]{1,10})+!",
        @"(?:[ab]*a[ab]{10}){6}!",
        @"(a|aa){1,100}!",
        @"[\s\S]{1,300}!",
        @"\p{L}{1,5000}",
        @"(?i)[a-z]{1,300}",
        @"a{1,2}{1000}",
        @"[a-z]{2147483647}",
        @"(?x) ( [a-z]{1,50} ) {1,50} !",
        @"(?x:[a-z] # comment
            {1,500})",
        @"[a-b]{1,10}[a-c]{1,10}[a-d]{1,10}[a-e]{1,10}[a-f]{1,10}[a-g]{1,10}[a-h]{1,10}[a-i]{1,10}[a-j]{1,10}[a-k]{1,10}[a-l]{1,10}",
        "(?:" + string.Join("|", Enumerable.Range(0, 400).Select(i => "word" + i)) + ")",
        @"(a)\1",
        @"(?=a)b",
        @"(?<=a)b",
        @"(?>a+)b");

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Parse_RegexOperatorOverBudget_RefusedAtItsValue(string pattern)
    {
        var ok = PolicyDocument.TryParse(RegexPolicy(pattern), out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/require/0/value", error.Pointer);
        Assert.Matches("too costly|does not support|does not compile", error.Message);
    }

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Parse_SchemaPatternOverBudget_Refused(string pattern)
    {
        var schema = "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"pattern\":" + JsonSerializer.Serialize(pattern) + "}}}";

        var ok = PolicyDocument.TryParse(SchemaPolicy(schema), out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/args_schema", error.Pointer);
        Assert.Contains(pattern.Length > 60 ? pattern[..60] : pattern, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Pathological))]
    public void Parse_SchemaPatternPropertiesOverBudget_Refused(string pattern)
    {
        var schema = "{\"type\":\"object\",\"patternProperties\":{" + JsonSerializer.Serialize(pattern) + ":{\"type\":\"string\"}}}";

        var ok = PolicyDocument.TryParse(SchemaPolicy(schema), out _, out var errors);

        Assert.False(ok);
        Assert.Equal("/tools/t/args_schema", Assert.Single(errors).Pointer);
    }

    [Fact]
    public void Parse_OverBudgetMessage_SaysWhyAndHowToFix()
    {
        PolicyDocument.TryParse(RegexPolicy(@"([a-z]{1,50}){1,50}!"), out _, out var errors);

        var message = Assert.Single(errors).Message;
        Assert.Contains("10000", message, StringComparison.Ordinal);
        Assert.Contains("at most 100", message, StringComparison.Ordinal);
        Assert.Contains("use + or *", message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> AcceptedWithWorstInputs() => new()
    {
        { @"(a+)+$", "a" },
        { @"(a|a)*!", "a" },
        { @"(a*)*b", "a" },
        { @"(x+x+)+y", "x" },
        { @"(\w+\s?)*$", "a" },
        { @"[a-z]{1,100}!", "a" },
        { @"\w{1,33}\s?\w{1,33}\s?\w{1,33}!", "a" },
        { @"([a-z]{1,5}){1,5}!", "a" },
        { @"([a-z]{1,3}){1,8}!", "a" },
        { @"(a|aa){1,33}!", "a" },
        { @"(.*a){12}!", "a" },
        { @".*[a-z]{1,100}!", "a" },
        { @"[ab]*a[ab]{99}!", "ab" },
        { @"[a-b]{1,10}[a-c]{1,10}[a-d]{1,10}[a-e]{1,10}[a-f]{1,10}[a-g]{1,10}[a-h]{1,10}[a-i]{1,10}[a-j]{1,10}[a-k]{1,10}!", "a" },
        { @"^(\d{1,3}\.){3}\d{1,3}$", "1" },
    };

    private static string WorstInput(string alphabet, int length)
    {
        var builder = new StringBuilder(length);
        var random = new Random(11);
        for (var i = 0; i < length; i++)
        {
            builder.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return builder.ToString();
    }

    [Theory]
    [MemberData(nameof(AcceptedWithWorstInputs))]
    public void Evaluate_AcceptedPatternOnWorstInput_DecidesWithoutThrowing(string pattern, string alphabet)
    {
        var evaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(RegexPolicy(pattern, "deny_if"))));
        var schemaEvaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(SchemaPolicy(
            "{\"properties\":{\"s\":{\"not\":{\"pattern\":" + JsonSerializer.Serialize(pattern) + "}}}}"))));

        foreach (var length in new[] { 1_000, 100_000 })
        {
            var args = Args(WorstInput(alphabet, length));
            var decision = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", args));
            var schemaDecision = Guarded(() => schemaEvaluator.Evaluate(new PolicyIdentity("alice"), "t", args));

            // A match either completes (allow: none of these match) or overruns the run-time limit (deny); never throws.
            Assert.Contains(decision.Kind, new[] { DecisionKind.Allow, DecisionKind.Deny });
            Assert.Contains(schemaDecision.Kind, new[] { DecisionKind.Allow, DecisionKind.Deny });
        }
    }

    // The run-time limit itself is 250 ms, far above what an accepted pattern needs, so these build the policy with a
    // regex whose limit is one tick: the same exception the engine throws on an overrun, without depending on timing.
    private static readonly Regex OneTick = new(@"[ab]*a[ab]{20}!", RegexBudget.Options, TimeSpan.FromTicks(1));

    [Theory]
    [InlineData("require")]
    [InlineData("deny_if")]
    public void Evaluate_RegexMatchOverrunningItsTimeLimit_Denies(string list)
    {
        var predicate = new ComparisonPredicate("args.s", PredicateOperator.Regex, JsonSerializer.SerializeToElement(OneTick.ToString()), null, OneTick);
        PolicyPredicate[] predicates = [predicate];
        var tool = new ToolPolicy("t", null, null, list == "require" ? predicates : null, list == "deny_if" ? predicates : null, null, null, null, null);
        var evaluator = new PolicyEvaluator(Policy.Compile(new PolicyDocument("2", DefaultAction.Deny, null, null, null, [tool])));

        var decision = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", Args(WorstInput("ab", 1_000_000))));

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal($"/tools/t/{list}/0", decision.Rule);
        Assert.Contains("time budget", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SchemaMatchOverrunningItsTimeLimit_Denies()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Dialect.Draft202012.With([new OneTickPattern()]) };
        var schema = JsonSchema.Build(JsonDocument.Parse("{\"properties\":{\"s\":{\"not\":{\"pattern\":\"x\"}}}}").RootElement.Clone(), options);
        var tool = new ToolPolicy("t", null, null, null, null, JsonSerializer.SerializeToElement(new { }), schema, null, null);
        var evaluator = new PolicyEvaluator(Policy.Compile(new PolicyDocument("2", DefaultAction.Deny, null, null, null, [tool])));

        var decision = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", Args(WorstInput("ab", 1_000_000))));

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal("/tools/t/args_schema", decision.Rule);
        Assert.Contains("time budget", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_SchemaPatternOnHostileValue_DeniesQuickly()
    {
        var policy = Policy.Compile(PolicyDocument.Parse(SchemaPolicy("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"pattern\":\"^(a+)+$\"}}}")));
        var evaluator = new PolicyEvaluator(policy);

        var decision = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", Args(new string('a', 100_000) + "!")));
        var allowed = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", Args(new string('a', 100_000))));

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal("/tools/t/args_schema", decision.Rule);
        Assert.Equal(DecisionKind.Allow, allowed.Kind);
    }

    [Fact]
    public void Evaluate_SchemaPatternPropertiesOnHostileName_DeniesQuickly()
    {
        var policy = Policy.Compile(PolicyDocument.Parse(SchemaPolicy("{\"type\":\"object\",\"patternProperties\":{\"^(a+)+$\":{\"type\":\"number\"}}}")));
        var evaluator = new PolicyEvaluator(policy);
        var args = JsonDocument.Parse("{\"" + new string('a', 100_000) + "\":\"not a number\"}").RootElement.Clone();
        var harmless = JsonDocument.Parse("{\"" + new string('a', 100_000) + "!\":\"anything\"}").RootElement.Clone();

        var decision = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", args));
        var allowed = Guarded(() => evaluator.Evaluate(new PolicyIdentity("alice"), "t", harmless));

        Assert.Equal(DecisionKind.Deny, decision.Kind);
        Assert.Equal(DecisionKind.Allow, allowed.Kind);
    }

    [Theory]
    [InlineData("http://json-schema.org/draft-07/schema#")]
    [InlineData("https://json-schema.org/draft/2020-12/schema")]
    [InlineData("https://json-schema.org/draft/2019-09/schema")]
    public void Parse_SchemaSelectingAStockDialect_Refused(string dialect)
    {
        var schema = "{\"$schema\":\"" + dialect + "\",\"properties\":{\"s\":{\"pattern\":\"^(a+)+$\"}}}";

        var ok = PolicyDocument.TryParse(SchemaPolicy(schema), out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/args_schema", error.Pointer);
        Assert.Contains("$schema", error.Message, StringComparison.Ordinal);
    }

    private static string ManyPatterns(int count, bool schema)
    {
        var builder = new StringBuilder("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{");
        for (var i = 0; i < count; i++)
        {
            builder.Append(i == 0 ? string.Empty : ",").Append("\"t").Append(i).Append("\":");
            builder.Append(schema
                ? "{\"args_schema\":{\"properties\":{\"s\":{\"pattern\":\"^p" + i + "[a-z]+$\"}}}}"
                : "{\"require\":[{\"path\":\"args.s\",\"op\":\"regex\",\"value\":\"^p" + i + "[a-z]+$\"}]}");
        }

        return builder.Append("}}").ToString();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Parse_DistinctPatternsAtTheCap_Parse(bool schema)
    {
        Assert.True(PolicyDocument.TryParse(ManyPatterns(RegexBudget.MaxDistinctPatterns, schema), out _, out var errors), string.Join("; ", errors.Select(e => e.Message)));
    }

    [Theory]
    [InlineData(false, "/tools/t256/require/0/value")]
    [InlineData(true, "/tools/t256/args_schema")]
    public void Parse_DistinctPatternsOverTheCap_Refused(bool schema, string pointer)
    {
        var ok = PolicyDocument.TryParse(ManyPatterns(RegexBudget.MaxDistinctPatterns + 1, schema), out _, out var errors);

        Assert.False(ok);
        var error = Assert.Single(errors);
        Assert.Equal(pointer, error.Pointer);
        Assert.Contains("distinct regex patterns", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RepeatedPatternsBeyondTheCap_AreChargedOnce()
    {
        var builder = new StringBuilder("{\"version\":\"2\",\"default\":\"deny\",\"tools\":{");
        for (var i = 0; i < 2_000; i++)
        {
            builder.Append(i == 0 ? string.Empty : ",").Append("\"t").Append(i).Append("\":{\"require\":[{\"path\":\"args.s\",\"op\":\"regex\",\"value\":\"^p").Append(i % 10).Append("$\"}]}");
        }

        Assert.True(PolicyDocument.TryParse(builder.Append("}}").ToString(), out _, out _));
    }

    [Theory]
    [InlineData(@"[a-z0-9_-]{3,64}", 64)]
    [InlineData(@"^\d{4}-\d{2}-\d{2}$", 8)]
    [InlineData(@"^(\d{1,3}\.){3}\d{1,3}$", 51)]
    [InlineData(@"([a-z]{1,50}){1,50}", 10_000)]
    [InlineData(@"(?x) ( [a-z]{1,50} ) {1,50}", 10_000)]
    [InlineData(@"([a-z]{1,10}x)+", 176)]
    [InlineData(@"[\]{]{1,7}", 7)]
    [InlineData(@"a{,5}b{x}", 0)]
    [InlineData(@"(?#{1,99})a[a-z-[{1,99}]]+", 0)]
    public void Measure_CountsCountedRepetitions(string pattern, long expected)
    {
        Assert.Equal(expected, RegexBudget.Measure(pattern));
    }

    /// <summary>A <c>pattern</c> keyword whose regex times out at once, as <see cref="OneTick"/> does.</summary>
    private sealed class OneTickPattern : global::Json.Schema.Keywords.PatternKeyword
    {
        public override object? ValidateKeywordValue(JsonElement value) => OneTick;
    }
}
