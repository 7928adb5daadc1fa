namespace PolicyEngine;

/// <summary>The <see cref="Decision.Rule"/> values of decisions no single document rule made.</summary>
public static class BuiltInRules
{
    /// <summary>The tool is hidden by <c>hide</c>.</summary>
    public const string Hidden = "(hidden)";

    /// <summary>The tool matches no entry and the document's default is deny.</summary>
    public const string DefaultDeny = "(default deny)";

    /// <summary>The tool matches no entry and the document's default is allow.</summary>
    public const string DefaultAllow = "(default allow)";

    /// <summary>The counter store failed or timed out and the evaluator fails closed.</summary>
    public const string StoreUnavailable = "(store unavailable)";

    /// <summary>The arguments are not a JSON object, or could not be evaluated; never an allow.</summary>
    public const string InvalidArguments = "(invalid arguments)";

    /// <summary>A <c>default(Decision)</c>: a value no evaluator returned, which reads as a denial.</summary>
    public const string NoDecision = "(no decision)";
}
