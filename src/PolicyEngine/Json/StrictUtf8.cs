using System.Text;

namespace PolicyEngine.Json;

/// <summary>UTF-8 that refuses lone surrogates instead of replacing them (documents, operands and keys must be exact text).</summary>
internal static class StrictUtf8
{
    /// <summary>The encoding: no byte order mark, throws on invalid data.</summary>
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
