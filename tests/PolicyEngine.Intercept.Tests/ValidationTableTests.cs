namespace PolicyEngine.Intercept.Tests;

/// <summary>Each error of Intercept's documented validation table, and each of ours, at its pointer.</summary>
public sealed class ValidationTableTests
{
    private static string Rule(string body) => "version: \"1\"\ntools:\n  t:\n    rules:\n      - " + body.Replace("\n", "\n        ", StringComparison.Ordinal) + "\n";

    public static TheoryData<string, string, string> Cases => new()
    {
        // Intercept's table.
        { "version: \"1\"\nhide: [a, \" \"]\ntools: {}\n", "/hide/1", "entry must not be empty" },
        { "version: \"1\"\nhide: [a, a]\ntools: {}\n", "/hide/1", "duplicate entry \"a\"" },
        { "version: \"2\"\ntools: {}\n", "/version", "version must be \"1\", got \"2\"" },
        { "tools: {}\n", "", "version must be \"1\", got \"\"" },
        { "version: \"1\"\ndefault: block\ntools: {}\n", "/default", "default must be \"allow\" or \"deny\", got \"block\"" },
        { Rule("action: deny"), "/tools/t/rules/0", "rule must have a name" },
        { Rule("name: r\naction: allow"), "/tools/t/rules/0/action", "action must be \"evaluate\" or \"deny\", got \"allow\"" },
        { Rule("name: r\naction: deny\nconditions: [{path: args.a, op: eq, value: 1}]"), "/tools/t/rules/0/conditions", "deny rules must not have conditions" },
        { Rule("name: r"), "/tools/t/rules/0", "evaluate rules must have at least one condition" },
        { Rule("name: r\nconditions: [{path: amount, op: eq, value: 1}]"), "/tools/t/rules/0/conditions/0/path", "path must start with \"args.\" or \"state.\", got \"amount\"" },
        { Rule("name: r\nconditions: [{path: args.a, op: like, value: 1}]"), "/tools/t/rules/0/conditions/0/op", "unknown operator \"like\"" },
        { Rule("name: r\nconditions: [{path: args.a, op: in, value: usd}]"), "/tools/t/rules/0/conditions/0/value", "operator \"in\" requires a list value" },
        { Rule("name: r\nconditions: [{path: args.a, op: not_in, value: 1}]"), "/tools/t/rules/0/conditions/0/value", "operator \"not_in\" requires a list value" },
        { Rule("name: r\nconditions: [{path: args.a, op: gte, value: \"5\"}]"), "/tools/t/rules/0/conditions/0/value", "operator \"gte\" requires a numeric value" },
        { Rule("name: r\nconditions: [{path: args.a, op: exists, value: yes}]"), "/tools/t/rules/0/conditions/0/value", "operator \"exists\" requires a boolean value" },
        { Rule("name: r\nconditions: [{path: args.a, op: regex, value: 5}]"), "/tools/t/rules/0/conditions/0/value", "regex value must be a string" },
        { Rule("name: r\nconditions: [{path: state.t.c, op: lte, value: 5}]\nstate: {counter: \"\", window: hour}"), "/tools/t/rules/0/state/counter", "counter must not be empty" },
        { Rule("name: r\nconditions: [{path: state.t.c, op: lte, value: 5}]\nstate: {counter: c, window: week}"), "/tools/t/rules/0/state/window", "window must be \"minute\", \"hour\", or \"day\", got \"week\"" },
        { Rule("name: r\nconditions: [{path: state.t.c, op: lte, value: 5}]\nstate: {counter: c, window: day, increment_from: amount}"), "/tools/t/rules/0/state/increment_from", "increment_from must start with \"args.\", got \"amount\"" },
        { Rule("name: r\nconditions: [{path: state.t.other, op: lte, value: 5}]"), "/tools/t/rules/0/conditions/0/path", "condition references state.t.other but no matching state block found" },
        { Rule("name: r\nrate_limit: 0/hour"), "/tools/t/rules/0/rate_limit", "rate_limit count must be a positive integer, got \"0\"" },
        { Rule("name: r\nrate_limit: 5/week"), "/tools/t/rules/0/rate_limit", "rate_limit window must be \"minute\", \"hour\", or \"day\", got \"week\"" },
        { Rule("name: r\nrate_limit: five"), "/tools/t/rules/0/rate_limit", "rate_limit must be in the format \"N/window\" (e.g. \"5/hour\"), got \"five\"" },
        { Rule("name: r\nrate_limit: 5/hour\nconditions: [{path: args.a, op: eq, value: 1}]"), "/tools/t/rules/0/rate_limit", "rate_limit cannot be combined with conditions or state; use separate rules or the full syntax instead" },
        { Rule("name: r\nrate_limit: 5/hour\naction: deny"), "/tools/t/rules/0/rate_limit", "rate_limit cannot be used with action \"deny\"" },
        { "version: \"1\"\ntools:\n  t:\n    rules:\n      - {name: a, rate_limit: 5/hour}\n      - {name: b, rate_limit: 9/hour}\n", "/tools/t/rules/1/rate_limit", "duplicate state counter \"_rate_hour\" (also used by rules[0])" },

        // Ours.
        { Rule("name: r\nconditions: [{path: args.a, opp: eq, value: 1}]"), "/tools/t/rules/0/conditions/0/opp", "unknown key \"opp\"; expected one of path, op, value" },
        { "version: \"1\"\ntool: {}\n", "/tool", "unknown key \"tool\"; expected one of version, description, default, hide, tools" },
        { Rule("name: r\nconditions: [{path: state.t.c, op: lte, value: 5}]\nstate: {counter: c, window: day, increment: -2}"), "/tools/t/rules/0/state/increment", "increment must not be negative, got -2: a negative increment would hand quota back on every call" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Import_InvalidPolicy_ReportsTheError(string yaml, string pointer, string message)
    {
        Assert.False(InterceptPolicy.TryImport(yaml, null, out var document, out var errors));
        Assert.Null(document);
        Assert.Contains(new PolicyError(pointer, message), errors);
    }

    [Fact]
    public void Import_StateBlockNoConditionReads_IsAnError()
    {
        var yaml = Rule("name: r\nconditions: [{path: args.a, op: eq, value: 1}]\nstate: {counter: c, window: hour}");
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        var error = Assert.Single(errors);
        Assert.Equal("/tools/t/rules/0/state", error.Pointer);
        Assert.StartsWith("the state counter \"c\" is never checked", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gte")]
    [InlineData("eq")]
    public void Import_CounterReadOtherThanAsLimit_CannotBeImported(string op)
    {
        var yaml = "version: \"1\"\ntools:\n  a:\n    rules:\n      - {name: r, rate_limit: 5/hour}\n  b:\n    rules:\n      - name: s\n        conditions: [{path: state.a._rate_hour, op: " + op + ", value: 1}]\n";
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        var error = Assert.Single(errors);
        Assert.Equal("/tools/b/rules/0/conditions/0/path", error.Pointer);
        Assert.StartsWith("cannot import this condition on \"state.a._rate_hour\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Import_ManyProblems_ReportsEveryOne()
    {
        var yaml = "version: \"0\"\ndefault: x\ntools:\n  t:\n    rules:\n      - {action: nope}\n      - {name: r, conditions: [{path: x, op: y, value: 1}]}\n";
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        Assert.True(errors.Count >= 6, string.Join("\n", errors));
    }

    [Theory]
    [InlineData("version: \"1\"\ntools: [a, b]\n", "/tools")]
    [InlineData("version: \"1\"\ntools:\n  t:\n    rules: {name: r}\n", "/tools/t/rules")]
    [InlineData("version: \"1\"\ntools:\n  \"fs_*\":\n    rules: []\n", "/tools/fs_*")]
    [InlineData("version: \"1\"\nhide: [\"debug_*\"]\n", "/hide/0")]
    [InlineData("version: \"1\"\ntools:\n  t: {rules: []}\n  t: {rules: []}\n", "")]
    [InlineData("version: \"1\"\ntools: {t: {rules: [\n", "")]
    [InlineData("version: \"1\"\n---\nversion: \"1\"\n", "")]
    public void Import_MalformedShapes_AreErrorsNotExceptions(string yaml, string pointer)
    {
        Assert.False(InterceptPolicy.TryImport(yaml, null, out _, out var errors));
        Assert.Contains(errors, e => e.Pointer == pointer);
    }

    [Fact]
    public void Import_Throws_ValidationExceptionListingEveryProblem()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => InterceptPolicy.Import("version: \"3\"\ndefault: x\n"));
        Assert.Equal(2, ex.Errors.Count);
    }
}
