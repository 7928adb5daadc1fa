using System.Globalization;
using System.Text.Json;
using PolicyEngine.Evaluation;

namespace PolicyEngine.Testing;

/// <summary>
/// A policy test file: a policy (a path relative to the file, or the document inline) and cases, each a call with the
/// decision it must get. Cases run in order through one evaluator with one in-memory store, so a file can test limits
/// (<c>repeat</c>, <c>at</c>); every allowed call completes successfully. Run by <c>policyengine test</c>, by
/// <see cref="Run"/>, and inside <c>dotnet test</c> through <see cref="TheoryRows"/> and <see cref="AssertCase"/>.
/// </summary>
/// <example>
/// <code>
/// {
///   "$schema": "https://policyengine.dev/schemas/policy-tests.schema.json",
///   "policy": "payments.policy.json",
///   "cases": [
///     { "name": "large refund", "identity": "alice", "tool": "create_refund",
///       "args": { "amount": 10001, "reason": "broken" }, "expect": "deny", "rule": "/tools/create_refund/deny_if/0" }
///   ]
/// }
/// </code>
/// </example>
public sealed partial class PolicyTestFile
{
    private static readonly string[] FileKeys = ["$schema", "policy", "cases"];
    private static readonly string[] CaseKeys = ["name", "identity", "tool", "args", "at", "repeat", "expect", "rule", "reason"];

    private PolicyTestFile(string path, PolicyDocument policy, IReadOnlyList<PolicyTestCase> cases)
    {
        Path = path;
        Policy = policy;
        Cases = cases;
    }

    /// <summary>The file's path (or the name given to <see cref="Parse"/>).</summary>
    public string Path { get; }

    /// <summary>The policy under test.</summary>
    public PolicyDocument Policy { get; }

    /// <summary>The cases, in file order.</summary>
    public IReadOnlyList<PolicyTestCase> Cases { get; }

    /// <summary>Reads a test file and the policy it names.</summary>
    /// <param name="path">The test file.</param>
    /// <returns>The file.</returns>
    /// <exception cref="PolicyValidationException">The test file or its policy is not valid; every problem is listed with a JSON Pointer.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static PolicyTestFile Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path), path, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)));
    }

    /// <summary>Parses a test file's text.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="name">A name for messages (usually the path).</param>
    /// <param name="baseDirectory">The directory a relative <c>policy</c> path is resolved against (default: the current directory).</param>
    /// <returns>The file.</returns>
    /// <exception cref="PolicyValidationException">The test file or its policy is not valid.</exception>
    public static PolicyTestFile Parse(string json, string name = "(inline)", string? baseDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(name);
        var errors = new List<PolicyError>();
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 128 });
            root = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new PolicyValidationException([new PolicyError(string.Empty, $"the test file is not valid JSON: {ex.Message}")]);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyValidationException([new PolicyError(string.Empty, "a test file is an object with \"policy\" and \"cases\"")]);
        }

        UnknownKeys(root, string.Empty, FileKeys, errors);
        var policy = ReadPolicy(root, baseDirectory, errors);
        var cases = new List<PolicyTestCase>();
        if (!root.TryGetProperty("cases", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new PolicyError(string.Empty, "\"cases\" is required: an array of cases"));
        }
        else
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                if (ReadCase(item, index, $"/cases/{index}", errors) is { } testCase)
                {
                    if (!names.Add(testCase.Name))
                    {
                        errors.Add(new PolicyError($"/cases/{index}/name", $"the name {JsonText.Quote(testCase.Name)} is used by an earlier case; names must be unique"));
                    }

                    cases.Add(testCase);
                }

                index++;
            }
        }

        if (errors.Count > 0 || policy is null)
        {
            throw new PolicyValidationException(errors);
        }

        return new PolicyTestFile(name, policy, cases);
    }

    /// <summary>Runs every case in order with one evaluator and one in-memory store.</summary>
    /// <returns>One result per case.</returns>
    public IReadOnlyList<PolicyTestResult> Run()
    {
        var results = new List<PolicyTestResult>(Cases.Count);
        var runner = new Runner(Policy);
        foreach (var testCase in Cases)
        {
            results.Add(runner.Run(testCase));
        }

        return results;
    }

    /// <summary>Runs the named case, after replaying (without checking) every case before it, as <see cref="Run"/> would.</summary>
    /// <param name="name">The case name.</param>
    /// <returns>Its result.</returns>
    /// <exception cref="ArgumentException">No case has that name.</exception>
    public PolicyTestResult RunCase(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var runner = new Runner(Policy);
        foreach (var testCase in Cases)
        {
            var result = runner.Run(testCase);
            if (testCase.Name == name)
            {
                return result;
            }
        }

        throw new ArgumentException($"{Path} has no case named {JsonText.Quote(name)}", nameof(name));
    }

    /// <summary>
    /// Rows for an xunit <c>[MemberData]</c> theory: one <c>{ file, case name }</c> row per case of every test file
    /// given (a directory stands for every <c>*.tests.json</c> under it). Pass each row to <see cref="AssertCase"/>.
    /// </summary>
    /// <param name="paths">Test files or directories.</param>
    /// <returns>The rows (plain strings, so each case shows as its own test).</returns>
    /// <example>
    /// <code>
    /// public static IEnumerable&lt;object[]&gt; Cases =&gt; PolicyTestFile.TheoryRows("policies");
    ///
    /// [Theory, MemberData(nameof(Cases))]
    /// public void Policy_case(string file, string name) =&gt; PolicyTestFile.AssertCase(file, name);
    /// </code>
    /// </example>
    public static IEnumerable<object[]> TheoryRows(params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var file in Expand(paths))
        {
            foreach (var testCase in Load(file).Cases)
            {
                yield return [file, testCase.Name];
            }
        }
    }

    /// <summary>Runs one case of a test file and throws when it fails.</summary>
    /// <param name="path">The test file.</param>
    /// <param name="name">The case name.</param>
    /// <exception cref="PolicyTestFailedException">The case did not get the expected decision.</exception>
    public static void AssertCase(string path, string name)
    {
        var result = Load(path).RunCase(name);
        if (!result.Passed)
        {
            throw new PolicyTestFailedException(path, result);
        }
    }

    /// <summary>Files, and every <c>*.tests.json</c> under each directory, in ordinal order.</summary>
    internal static IEnumerable<string> Expand(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                foreach (var file in Directory.GetFiles(path, "*.tests.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    yield return file;
                }
            }
            else
            {
                yield return path;
            }
        }
    }

    /// <summary>One evaluator, one store and one virtual clock for a run of cases.</summary>
    private sealed class Runner
    {
        private readonly VirtualClock _clock = new(PolicyGen.Epoch);
        private readonly PolicyEvaluator _evaluator;

        public Runner(PolicyDocument policy) => _evaluator = new PolicyEvaluator(PolicyEngine.Policy.Compile(policy), timeProvider: _clock);

        public PolicyTestResult Run(PolicyTestCase testCase)
        {
            if (testCase.At is { } at)
            {
                _clock.Set(at);
            }

            Decision decision = default;
            for (var i = 0; i < testCase.Repeat; i++)
            {
                decision = _evaluator.Evaluate(testCase.Identity, testCase.Tool, testCase.Args);
                if (decision.IsAllowed)
                {
                    _evaluator.Complete(decision, succeeded: true);
                }

                if (Mismatch(testCase, decision) is { } failure)
                {
                    var which = testCase.Repeat > 1 ? string.Create(CultureInfo.InvariantCulture, $" (call {i + 1} of {testCase.Repeat})") : string.Empty;
                    return new PolicyTestResult(testCase, decision, failure + which);
                }
            }

            return new PolicyTestResult(testCase, decision, null);
        }

        private static string? Mismatch(PolicyTestCase testCase, Decision decision)
        {
            var kindOk = decision.Kind == testCase.Expect;
            var ruleOk = testCase.Rule is null || string.Equals(testCase.Rule, decision.Rule, StringComparison.Ordinal);
            var reasonOk = testCase.Reason is null || (decision.Reason ?? string.Empty).Contains(testCase.Reason, StringComparison.Ordinal);
            if (kindOk && ruleOk && reasonOk)
            {
                return null;
            }

            var expected = Scenario.KindName(testCase.Expect)
                + (testCase.Rule is null ? string.Empty : " by " + testCase.Rule)
                + (testCase.Reason is null ? string.Empty : $" with a reason containing {JsonText.Quote(testCase.Reason)}");
            return $"expected {expected}, got {Scenario.Describe(decision)}";
        }
    }
}
