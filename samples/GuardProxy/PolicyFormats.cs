using PolicyEngine;

namespace PolicyEngine.Samples.GuardProxy;

/// <summary>How each <c>--format</c> is read.</summary>
internal static class PolicyFormats
{
    public static Func<string, PolicyDocument>? LoaderFor(string format) => format switch
    {
        "json" => PolicyDocument.Load,
        // The Intercept importer (PolicyEngine.Intercept) is not on main yet. When it is, reference it from this
        // project and return: path => InterceptPolicy.Load(path).
        "intercept" => null,
        _ => throw new ArgumentException($"unknown format '{format}'"),
    };
}
