using System.Globalization;

namespace PolicyEngine.Testing;

/// <summary>
/// One kind of decision change found by <see cref="PolicyDiff"/>: calls of one tool that the old policy decided one
/// way (kind and rule) and the new policy another, with the simplest examples.
/// </summary>
public sealed class PolicyDecisionChange
{
    internal PolicyDecisionChange(string tool, bool repeated, DecisionKind oldKind, string? oldRule, DecisionKind newKind, string? newRule)
    {
        Tool = tool;
        Repeated = repeated;
        OldKind = oldKind;
        OldRule = oldRule;
        NewKind = newKind;
        NewRule = newRule;
    }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary><see langword="true"/> when the change shows only after the same call is repeated (a limit changed).</summary>
    public bool Repeated { get; }

    /// <summary>The old policy's decision.</summary>
    public DecisionKind OldKind { get; }

    /// <summary>The old policy's deciding rule.</summary>
    public string? OldRule { get; }

    /// <summary>The new policy's decision.</summary>
    public DecisionKind NewKind { get; }

    /// <summary>The new policy's deciding rule.</summary>
    public string? NewRule { get; }

    /// <summary>How many generated calls (or bursts) changed this way.</summary>
    public int Count { get; internal set; }

    /// <summary>The simplest calls that changed this way (at most three); for a repeated call, the first call whose decision changed.</summary>
    public IReadOnlyList<PolicyCall> Examples => ExampleList;

    /// <summary>For repeated calls: which repetition (from 1) first decided differently, in the first example.</summary>
    public int Repetition { get; internal set; } = 1;

    internal List<PolicyCall> ExampleList { get; } = [];

    /// <summary>For example <c>allow by /tools/x → deny by /tools/x/deny_if/0</c>.</summary>
    /// <returns>The transition.</returns>
    public override string ToString() =>
        $"{Scenario.KindName(OldKind)}{(OldRule is null ? string.Empty : " by " + OldRule)} → {Scenario.KindName(NewKind)}{(NewRule is null ? string.Empty : " by " + NewRule)}"
        + (Repeated ? string.Create(CultureInfo.InvariantCulture, $" (on repetition {Repetition} of the same call)") : string.Empty);
}
