namespace PolicyEngine;

/// <summary>How serious a <see cref="LintFinding"/> is.</summary>
public enum LintSeverity
{
    /// <summary>Worth knowing; the policy may well be what its author meant.</summary>
    Info,

    /// <summary>A rule that never fires or never matters: dead weight, or a sign of a mistake.</summary>
    Warning,

    /// <summary>The policy certainly does not do what the rule says (for example a tool that can never be allowed by its own <c>require</c>).</summary>
    Error,
}
