namespace PolicyEngine.Intercept;

/// <summary>Choices for <see cref="InterceptPolicy"/> imports. Read once per import, so later changes have no effect.</summary>
public sealed class InterceptImportOptions
{
    /// <summary>
    /// <see langword="false"/> (the default, as in Intercept): every counter is one count for the whole proxy, shared
    /// by every caller — a tool's counters get <c>"scope": "tool"</c>, <c>"*"</c> counters <c>"scope": "global"</c>.
    /// <see langword="true"/>: each caller (<see cref="PolicyIdentity.Id"/>) gets its own counters (<c>"scope": "grant"</c>).
    /// </summary>
    public bool PerIdentityCounters { get; set; }
}
