namespace PolicyEngine;

/// <summary>
/// An audit record of one decision. It never carries argument values: only their names and a SHA-256 of their
/// canonical JSON, so two records of the same call can be matched without the log holding secrets.
/// </summary>
public sealed class DecisionEvent : EventArgs
{
    internal DecisionEvent(
        DateTimeOffset timestamp,
        string identityId,
        string tool,
        Decision decision,
        string argumentsSha256,
        IReadOnlyList<string> argumentNames)
    {
        Timestamp = timestamp;
        IdentityId = identityId;
        Tool = tool;
        Decision = decision;
        ArgumentsSha256 = argumentsSha256;
        ArgumentNames = argumentNames;
    }

    /// <summary>When the decision was made (the evaluator's clock).</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>The caller's identity id.</summary>
    public string IdentityId { get; }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary>The decision itself.</summary>
    public Decision Decision { get; }

    /// <summary>
    /// Lowercase hex SHA-256 of the arguments' canonical JSON (keys sorted, numbers normalised, lone surrogates kept as
    /// escapes); empty when the arguments could not be read at all (the decision is then a deny by <c>(invalid arguments)</c>).
    /// </summary>
    public string ArgumentsSha256 { get; }

    /// <summary>
    /// What the counter or approval store threw when this decision was made because it failed (a
    /// <see cref="BuiltInRules.StoreUnavailable"/> denial, or an allow with <see cref="Decision.IsUnenforced"/>);
    /// otherwise <see langword="null"/>. The evaluator never throws a store's exception at the caller: this is where
    /// the host learns why.
    /// </summary>
    public Exception? StoreError => Decision.Verdict.StoreError;

    /// <summary>The top-level argument names, sorted ordinally.</summary>
    public IReadOnlyList<string> ArgumentNames { get; }
}
