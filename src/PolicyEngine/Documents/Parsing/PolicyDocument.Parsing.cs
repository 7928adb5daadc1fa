using System.Diagnostics.CodeAnalysis;
using PolicyEngine.Documents.Parsing;

namespace PolicyEngine;

// The document's entry points from text: parsing lives with the parser, so the model never reaches into it.
public sealed partial class PolicyDocument
{
    /// <summary>Parses and validates a policy document.</summary>
    /// <param name="json">The document's JSON text.</param>
    /// <returns>The document.</returns>
    /// <exception cref="PolicyValidationException">The document is not valid; <see cref="PolicyValidationException.Errors"/> lists every problem.</exception>
    public static PolicyDocument Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return PolicyParser.Parse(json, out var errors) ?? throw new PolicyValidationException(errors);
    }

    /// <summary>Parses and validates a policy document from UTF-8 bytes.</summary>
    /// <param name="utf8">The document's UTF-8 JSON text (a leading byte order mark is ignored).</param>
    /// <returns>The document.</returns>
    /// <exception cref="PolicyValidationException">The document is not valid; <see cref="PolicyValidationException.Errors"/> lists every problem.</exception>
    public static PolicyDocument Parse(ReadOnlySpan<byte> utf8) =>
        PolicyParser.Parse(utf8, out var errors) ?? throw new PolicyValidationException(errors);

    /// <summary>Parses and validates a policy document without throwing for bad input.</summary>
    /// <param name="json">The document's JSON text.</param>
    /// <param name="document">The document, when valid.</param>
    /// <param name="errors">Every problem found; empty when valid.</param>
    /// <returns><see langword="true"/> when the document is valid.</returns>
    public static bool TryParse(string json, [NotNullWhen(true)] out PolicyDocument? document, out IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(json);
        document = PolicyParser.Parse(json, out errors);
        return document is not null;
    }

    /// <summary>Parses and validates a policy document from UTF-8 bytes without throwing for bad input.</summary>
    /// <param name="utf8">The document's UTF-8 JSON text.</param>
    /// <param name="document">The document, when valid.</param>
    /// <param name="errors">Every problem found; empty when valid.</param>
    /// <returns><see langword="true"/> when the document is valid.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out PolicyDocument? document, out IReadOnlyList<PolicyError> errors)
    {
        document = PolicyParser.Parse(utf8, out errors);
        return document is not null;
    }

    /// <summary>Reads, parses and validates a policy file.</summary>
    /// <param name="path">The file's path.</param>
    /// <returns>The document.</returns>
    /// <exception cref="PolicyValidationException">The document is not valid.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static PolicyDocument Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (info.Exists && info.Length > PolicyParser.MaxDocumentBytes)
        {
            throw new PolicyValidationException([new PolicyError(string.Empty, $"the file is too large ({info.Length} bytes); the limit is {PolicyParser.MaxDocumentBytes} bytes")]);
        }

        return Parse(File.ReadAllBytes(path));
    }
}
