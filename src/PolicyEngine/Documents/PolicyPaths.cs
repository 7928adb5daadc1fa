namespace PolicyEngine.Documents;

/// <summary>
/// The one definition of a valid predicate, scope or cost path: <c>args.</c> (or, where allowed, <c>identity.</c>)
/// followed by one or more non-empty dot-separated names. The parser and the Intercept importer both check with it.
/// </summary>
internal static class PolicyPaths
{
    /// <summary>The root of argument paths.</summary>
    public const string ArgsRoot = "args.";

    /// <summary>The root of identity paths (version 2 predicates only).</summary>
    public const string IdentityRoot = "identity.";

    /// <summary>Whether <paramref name="path"/> is a valid path; <c>identity.</c> paths only when <paramref name="allowIdentity"/>.</summary>
    public static bool IsValid(string path, bool allowIdentity)
    {
        var rest = path.StartsWith(ArgsRoot, StringComparison.Ordinal) ? path.AsSpan(ArgsRoot.Length)
            : allowIdentity && path.StartsWith(IdentityRoot, StringComparison.Ordinal) ? path.AsSpan(IdentityRoot.Length)
            : default;
        if (rest.IsEmpty)
        {
            return false;
        }

        foreach (var range in rest.Split('.'))
        {
            if (rest[range].IsEmpty)
            {
                return false;
            }
        }

        return true;
    }
}
