using System.Text.Json;

namespace PolicyEngine.Tests.Security;

/// <summary>
/// <c>path_under</c> refuses forms that are harmless lexically but that a tool might decode or normalise into a path
/// outside the directory: such a path makes the predicate undecidable, so the call is denied under <c>require</c> and
/// <c>deny_if</c> alike, unless the predicate opts out with <c>"allow_unusual_paths": true</c>.
/// </summary>
public class PathUnderStrictTests
{
    private static readonly PolicyIdentity Alice = new("alice");

    private static JsonElement File(string path) => TestPolicies.Args("""{"file":""" + JsonSerializer.Serialize(path) + "}");

    public static TheoryData<string> UnusualPaths() =>
    [
        "//workspace/a",
        "\\\\server\\share\\a",
        "/workspace\\a",
        "/workspace/%2e%2e/etc/passwd",
        "/workspace/\uFF0E\uFF0E/etc",
        "/workspace/\u2024\u2024/etc",
        "/workspace/.. /etc",
        "/workspace/.../etc",
        "/workspace/a\nb",
        "/workspace/a\u200B",
    ];

    [Theory]
    [MemberData(nameof(UnusualPaths))]
    public void Require_UnusualPath_IsDeniedWithAReason(string path)
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"read":{"require":[{"path":"args.file","op":"path_under","value":"/workspace","on_deny":"only /workspace"}]}}}""");

        var decision = evaluator.Evaluate(Alice, "read", File(path));

        Assert.Equal((DecisionKind.Deny, "/tools/read/require/0"), (decision.Kind, decision.Rule));
        Assert.Contains("a form a tool could read differently", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnusualPaths))]
    public void DenyIf_UnusualPath_IsDeniedToo(string path)
    {
        // Under deny_if a "false" would let the call through: an undecidable path must deny here as well.
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"allow","tools":{"read":{"deny_if":[{"path":"args.file","op":"path_under","value":"/workspace"}]}}}""");

        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File(path)).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "read", File("/home/alice/a")).Kind);
    }

    [Fact]
    public void AllowUnusualPaths_OptsOutToTheLexicalCheck()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"read":{"require":[{"path":"args.file","op":"path_under","value":"/workspace","allow_unusual_paths":true}]}}}""");

        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "read", File("//workspace/a")).Kind);
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "read", File("/workspace/%2e%2e/x")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("/workspace/../etc")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("/workspace/a\0")).Kind);
    }

    [Fact]
    public void PlainPaths_AreDecidedLexically()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"read":{"require":[{"path":"args.file","op":"path_under","value":"/workspace"}]}}}""");

        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "read", File("/workspace/a/./b/../c.txt")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("/workspace/../etc")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("/etc")).Kind);
    }

    [Fact]
    public void WindowsDirectory_AcceptsBackslashSeparators()
    {
        var evaluator = TestPolicies.Evaluator("""{"version":"2","default":"deny","tools":{"read":{"require":[{"path":"args.file","op":"path_under","value":"C:\\work"}]}}}""");

        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(Alice, "read", File("C:\\work\\a\\b.txt")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("C:\\work\\..\\windows")).Kind);
        Assert.Equal(DecisionKind.Deny, evaluator.Evaluate(Alice, "read", File("\\\\server\\share\\x")).Kind);
    }

    [Theory]
    [InlineData("""{"version":"2","default":"deny","tools":{"t":{"require":[{"path":"args.f","op":"eq","value":"x","allow_unusual_paths":true}]}}}""", "/tools/t/require/0/allow_unusual_paths")]
    [InlineData("""{"version":"2","default":"deny","tools":{"t":{"require":[{"path":"args.f","op":"path_under","value":"/w","allow_unusual_paths":"yes"}]}}}""", "/tools/t/require/0/allow_unusual_paths")]
    [InlineData("""{"version":"1","default":"deny","tools":{"t":{"require":[{"path":"args.f","op":"eq","value":"x","allow_unusual_paths":false}]}}}""", "/tools/t/require/0/allow_unusual_paths")]
    public void Parse_MisusedAllowUnusualPaths_IsRejectedAtItsPointer(string json, string pointer)
    {
        var exception = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(json));

        Assert.Contains(exception.Errors, error => error.Pointer == pointer);
    }

    [Fact]
    public void ToJson_AllowUnusualPaths_RoundTrips()
    {
        var document = PolicyDocument.Parse("""{"version":"2","default":"deny","tools":{"t":{"require":[{"path":"args.f","op":"path_under","value":"/w","allow_unusual_paths":true}]}}}""");

        Assert.Contains("\"allow_unusual_paths\": true", document.ToJson(), StringComparison.Ordinal);
        Assert.Equal(document, PolicyDocument.Parse(document.ToJson()));
    }
}
