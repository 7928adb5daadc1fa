namespace PolicyEngine.Testing;

/// <summary>The outcome of one <see cref="PolicyTestCase"/>.</summary>
public sealed class PolicyTestResult
{
    internal PolicyTestResult(PolicyTestCase testCase, Decision? actual, string? failure)
    {
        Case = testCase;
        Actual = actual;
        Failure = failure;
    }

    /// <summary>The case.</summary>
    public PolicyTestCase Case { get; }

    /// <summary>The decision made (the first wrong one when the case failed on a repeat).</summary>
    public Decision? Actual { get; }

    /// <summary>Why the case failed, in plain words; <see langword="null"/> when it passed.</summary>
    public string? Failure { get; }

    /// <summary><see langword="true"/> when every call of the case got the expected decision.</summary>
    public bool Passed => Failure is null;

    /// <summary><c>case "name": passed</c>, or the failure.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"case {JsonText.Quote(Case.Name)}: {Failure ?? "passed"}";
}
