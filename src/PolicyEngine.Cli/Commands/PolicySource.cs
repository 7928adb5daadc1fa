namespace PolicyEngine.Cli;

/// <summary>Reads a policy file in one of the supported formats.</summary>
internal static class PolicySource
{
    public static readonly string[] Formats = ["json"];

    /// <summary>Parses the file; returns the document or the problems. Throws <see cref="UsageException"/> when unreadable.</summary>
    public static PolicyDocument? Read(string path, string? format, out IReadOnlyList<PolicyError> errors, bool schemaCheck = false)
    {
        format ??= "json";
        if (Array.IndexOf(Formats, format) < 0)
        {
            throw new UsageException(format == "intercept"
                ? "the format \"intercept\" is not available in this build yet"
                : $"unknown format \"{format}\"; expected one of {string.Join(", ", Formats)}");
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot read \"{path}\": {ex.Message}");
        }

        return PolicyParser.Parse(bytes, out errors, schemaCheck);
    }
}
