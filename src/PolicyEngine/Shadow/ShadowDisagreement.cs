using PolicyEngine.Decisions;

namespace PolicyEngine;

/// <summary>
/// A call on which a shadow candidate policy decided a different kind of outcome than the enforced policy (for
/// example the enforced policy allowed it and the candidate would have rate-limited it). Like
/// <see cref="DecisionEvent"/>, it carries argument names and a SHA-256 of the canonical arguments, never their values.
/// </summary>
public sealed class ShadowDisagreement : EventArgs
{
    internal ShadowDisagreement(
        DateTimeOffset timestamp,
        string identityId,
        string tool,
        Decision enforced,
        Decision candidate,
        string argumentsSha256,
        IReadOnlyList<string> argumentNames)
    {
        Timestamp = timestamp;
        IdentityId = identityId;
        Tool = tool;
        Enforced = enforced;
        Candidate = candidate;
        ArgumentsSha256 = argumentsSha256;
        ArgumentNames = argumentNames;
    }

    /// <summary>When the call was decided (the shadow evaluator's clock).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>The caller's identity id.</summary>
    public string IdentityId { get; }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary>The decision that was enforced (the call's real outcome).</summary>
    public Decision Enforced { get; }

    /// <summary>What the candidate policy would have decided.</summary>
    public Decision Candidate { get; }

    /// <summary>
    /// The two kinds as the metric tags them, enforced first: <c>allow-&gt;deny</c>, <c>allow-&gt;rate_limited</c>,
    /// <c>deny-&gt;allow</c>, …
    /// </summary>
    public string Kinds => DecisionKindNames.Of(Enforced.Kind) + "->" + DecisionKindNames.Of(Candidate.Kind);

    /// <summary>Lowercase hex SHA-256 of the arguments' canonical JSON, as in <see cref="DecisionEvent.ArgumentsSha256"/>.</summary>
    public string ArgumentsSha256 { get; }

    /// <summary>The top-level argument names, sorted ordinally.</summary>
    public IReadOnlyList<string> ArgumentNames { get; }
}
