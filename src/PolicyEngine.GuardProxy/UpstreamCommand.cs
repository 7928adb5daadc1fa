namespace PolicyEngine.GuardProxy;

/// <summary>Finds the upstream server's executable before anything starts, so that a typo gets a clear answer.</summary>
internal static class UpstreamCommand
{
    /// <summary>
    /// Why <paramref name="command"/> cannot be started, or <see langword="null"/> when it can be found: a path that
    /// is not a file, or a name found on no directory of <c>PATH</c>.
    /// </summary>
    public static string? Problem(string command)
    {
        if (command.Length == 0)
        {
            return "the upstream server's command is empty";
        }

        if (command.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || command.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            return File.Exists(command) ? null : $"cannot start the upstream server: '{command}' does not exist";
        }

        var extensions = OperatingSystem.IsWindows()
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';', StringSplitOptions.RemoveEmptyEntries).Prepend(string.Empty).ToArray()
            : [string.Empty];
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var extension in extensions)
            {
                if (File.Exists(Path.Combine(directory, command + extension)))
                {
                    return null;
                }
            }
        }

        return $"cannot start the upstream server: '{command}' was not found on PATH (install it, or give its full path)";
    }
}
