namespace PolicyEngine.Intercept.Yaml;

/// <summary>Rewrites the Go (RE2) regex syntax that .NET spells differently.</summary>
internal static class GoRegex
{
    /// <summary>Go's named group <c>(?P&lt;name&gt;…)</c> becomes .NET's <c>(?&lt;name&gt;…)</c>; everything else is shared syntax.</summary>
    public static string ToDotNet(string pattern) => pattern.Replace("(?P<", "(?<", StringComparison.Ordinal);
}
