namespace PolicyEngine.Testing;

/// <summary>A case of a policy test file did not get the expected decision.</summary>
public sealed class PolicyTestFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The test file.</param>
    /// <param name="result">The failed case.</param>
    public PolicyTestFailedException(string path, PolicyTestResult result)
        : base($"{path}: {result}")
    {
        ArgumentNullException.ThrowIfNull(result);
        Result = result;
    }

    /// <summary>The failed case.</summary>
    public PolicyTestResult Result { get; }
}
