namespace PolicyEngine.Cli;

/// <summary>The exit codes of every <c>policyengine</c> command (DESIGN.md §6).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked: the policy is valid, every test passed, no decision changed.</summary>
    public const int Ok = 0;

    /// <summary>A policy, test or verification failure: an invalid policy, a failing case, a changed decision.</summary>
    public const int Failure = 1;

    /// <summary>The command line cannot be run as given (unknown command or option, a missing argument) or an input cannot be read.</summary>
    public const int UsageError = 2;
}
