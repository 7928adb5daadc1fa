namespace PolicyEngine.Cli;

/// <summary>A command line that cannot be run as given; the message says why.</summary>
internal sealed class UsageException(string message) : Exception(message);
