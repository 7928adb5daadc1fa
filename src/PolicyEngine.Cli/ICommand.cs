namespace PolicyEngine.Cli;

/// <summary>One <c>policyengine</c> command.</summary>
internal interface ICommand
{
    /// <summary>The word that selects the command.</summary>
    string Name { get; }

    /// <summary>The usage line, without the program name.</summary>
    string Usage { get; }

    /// <summary>One line saying what the command does.</summary>
    string Summary { get; }

    /// <summary>The options the command takes (<c>--name</c> → whether it takes a value).</summary>
    IReadOnlyDictionary<string, bool> Options { get; }

    /// <summary>Runs the command and returns its exit code.</summary>
    Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr);
}
