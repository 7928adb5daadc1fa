using PolicyEngine.Documents.Parsing;

namespace PolicyEngine.Cli;

/// <summary>Reads a policy file in one of the supported formats.</summary>
internal static class PolicySource
{
    public static readonly string[] Formats = ["json", "intercept"];

    /// <summary>Parses the file; returns the document or the problems. Throws <see cref="UsageException"/> when unreadable.</summary>
    public static PolicyDocument? Read(string path, string? format, out IReadOnlyList<PolicyError> errors, bool schemaCheck = false)
    {
        format ??= "json";
        if (Array.IndexOf(Formats, format) < 0)
        {
            throw new UsageException($"unknown format \"{format}\"; expected one of {string.Join(", ", Formats)}");
        }

        var bytes = ReadBytes(path);
        if (format == "intercept")
        {
            return ReadIntercept(bytes, out errors);
        }

        return PolicyParser.Parse(bytes, out errors, schemaCheck);
    }

    /// <summary>Reads a file; throws <see cref="UsageException"/> (exit 2) when it cannot be read.</summary>
    public static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot read \"{path}\": {Describe(path, ex)}");
        }
    }

    /// <summary>Why a file cannot be read, in a few words (the runtime's messages repeat the path).</summary>
    public static string Describe(string path, Exception ex) => ex switch
    {
        _ when Directory.Exists(path) => "it is a directory",
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => ex.Message,
    };

    /// <summary>Imports an Intercept YAML policy (UTF-8) as a version 2 document.</summary>
    public static PolicyDocument? ReadIntercept(byte[] bytes, out IReadOnlyList<PolicyError> errors, Intercept.InterceptImportOptions? options = null)
    {
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
        }
        catch (System.Text.DecoderFallbackException)
        {
            errors = [new PolicyError(string.Empty, "the policy file is not valid UTF-8")];
            return null;
        }

        Intercept.InterceptPolicy.TryImport(text, options, out var imported, out errors);
        return imported?.Document;
    }
}
