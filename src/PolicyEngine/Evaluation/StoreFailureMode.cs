namespace PolicyEngine;

/// <summary>What a decision becomes when the counter store fails or times out.</summary>
public enum StoreFailureMode
{
    /// <summary>Deny with rule <see cref="BuiltInRules.StoreUnavailable"/> (the default: a broken store never turns into an allow).</summary>
    FailClosed,

    /// <summary>Allow, with <see cref="Decision.IsUnenforced"/> set, so the host can log that limits were skipped.</summary>
    FailOpen,
}
