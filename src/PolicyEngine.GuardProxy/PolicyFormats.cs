using PolicyEngine;
using PolicyEngine.Intercept;

namespace PolicyEngine.GuardProxy;

/// <summary>How each <c>--format</c> is read.</summary>
internal static class PolicyFormats
{
    public static Func<string, PolicyDocument> LoaderFor(string format) => format switch
    {
        "json" => PolicyDocument.Load,
        "intercept" => path => InterceptPolicy.Load(path).Document,
        _ => throw new ArgumentException($"unknown format '{format}'"),
    };
}
