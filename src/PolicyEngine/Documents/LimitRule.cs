using PolicyEngine.Documents;

namespace PolicyEngine;

/// <summary>
/// <c>{ "counter": "refunds_per_hour", "window": "hour", "max": 10, "scope": "grant" }</c>: admits a call while the
/// counter's value after it is at most <see cref="Max"/> in the current window.
/// </summary>
public sealed class LimitRule
{
    internal LimitRule(
        string counter,
        string window,
        TimeSpan windowLength,
        bool calendarWindow,
        long max,
        string scope,
        LimitScopeKind scopeKind,
        LimitAlgorithm? algorithm,
        long? cost,
        string? costFrom,
        string? onDeny)
    {
        Counter = counter;
        WindowText = window;
        Window = windowLength;
        IsCalendarWindow = calendarWindow;
        Max = max;
        Scope = scope;
        ScopeKind = scopeKind;
        DeclaredAlgorithm = algorithm;
        DeclaredCost = cost;
        CostFrom = costFrom;
        OnDeny = onDeny;
    }

    /// <summary>The counter id. Limits that name the same counter share it.</summary>
    public string Counter { get; }

    /// <summary>
    /// The window's length: one minute, hour or day for the named windows (<c>minute</c>, <c>hour</c>, <c>day</c>),
    /// else the duration written (such as <c>30s</c>). Windows are aligned to the Unix epoch, which for the named
    /// windows is the UTC calendar.
    /// </summary>
    public TimeSpan Window { get; }

    /// <summary>The window as written, for printing the document back and for messages.</summary>
    internal string WindowText { get; }

    /// <summary>Whether the window is a named one (<c>minute</c>, <c>hour</c>, <c>day</c>), the only kind version 1 allows.</summary>
    internal bool IsCalendarWindow { get; }

    /// <summary>The most the counter may reach in one window.</summary>
    public long Max { get; }

    /// <summary>The scope as written: <c>grant</c>, <c>global</c>, <c>tool</c> or <c>args.&lt;path&gt;</c>.</summary>
    public string Scope { get; }

    /// <summary>What the counter is keyed by, read from <see cref="Scope"/>.</summary>
    internal LimitScopeKind ScopeKind { get; }

    /// <summary>The window algorithm (<see cref="LimitAlgorithm.Fixed"/> unless the document says otherwise).</summary>
    public LimitAlgorithm Algorithm => DeclaredAlgorithm ?? LimitAlgorithm.Fixed;

    /// <summary>The algorithm as written, or <see langword="null"/> when the document leaves it out (printing keeps it out).</summary>
    internal LimitAlgorithm? DeclaredAlgorithm { get; }

    /// <summary>What one call adds to the counter when <see cref="CostFrom"/> is not set (default 1).</summary>
    public long Cost => DeclaredCost ?? 1;

    /// <summary>The cost as written, or <see langword="null"/> when the document leaves it out (printing keeps it out).</summary>
    internal long? DeclaredCost { get; }

    /// <summary>The argument path (<c>args.…</c>) whose non-negative integer value is the call's cost, if any.</summary>
    public string? CostFrom { get; }

    /// <summary>The reason given when this limit rate-limits a call, if the document sets one.</summary>
    public string? OnDeny { get; }
}
