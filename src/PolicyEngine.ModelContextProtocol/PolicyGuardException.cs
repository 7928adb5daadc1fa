namespace PolicyEngine.ModelContextProtocol;

/// <summary>The guard cannot start: its options are wrong or its policy cannot be loaded.</summary>
public sealed class PolicyGuardException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public PolicyGuardException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public PolicyGuardException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PolicyGuardException()
    {
    }
}
