namespace PolicyEngine;

/// <summary>The <see cref="LintFinding.Code"/> of each check <see cref="PolicyLinter"/> makes.</summary>
public static class LintCodes
{
    /// <summary>Error: <c>require</c> predicates that cannot all hold (or one that never holds): every call of the tool is denied.</summary>
    public const string RequireNeverHolds = "require-never-holds";

    /// <summary>Warning: a <c>require</c> predicate that holds for every call, so it never denies anything.</summary>
    public const string RequireAlwaysHolds = "require-always-holds";

    /// <summary>Warning: a <c>deny_if</c> predicate that holds for every call (or for every call its <c>require</c> lets through): the tool is always denied.</summary>
    public const string DenyIfAlwaysHolds = "deny-if-always-holds";

    /// <summary>Warning: a <c>deny_if</c> predicate that can never hold, so it never denies anything.</summary>
    public const string DenyIfNeverHolds = "deny-if-never-holds";

    /// <summary>Warning: a limit whose <c>max</c> can never be reached, because another limit on the same calls admits fewer.</summary>
    public const string LimitNeverReached = "limit-never-reached";

    /// <summary>Error: a <c>cost_from</c> path that <c>args_schema</c> says is never an integer (or never present): every call is denied.</summary>
    public const string CostFromNotNumber = "cost-from-not-number";

    /// <summary>Warning: a <c>hide</c> entry already covered by another one.</summary>
    public const string HideRedundant = "hide-redundant";

    /// <summary>Warning (with the server's tool list): a <c>hide</c> entry that matches no tool the server lists.</summary>
    public const string HideMatchesNothing = "hide-matches-nothing";

    /// <summary>Warning: a <c>tools</c> entry every one of whose tools is hidden, so its rules never run.</summary>
    public const string EntryHidden = "entry-hidden";

    /// <summary>Warning (with the server's tool list): a <c>tools</c> entry that matches no tool the server lists.</summary>
    public const string EntryMatchesNothing = "entry-matches-nothing";

    /// <summary>Warning (with the server's tool list): a glob entry shadowed by exact (or more specific) entries for every listed tool it matches.</summary>
    public const string GlobShadowed = "glob-shadowed";

    /// <summary>Warning: an <c>approval</c> rule on a tool whose calls are always denied, so nobody is ever asked.</summary>
    public const string ApprovalNeverAsked = "approval-never-asked";
}
