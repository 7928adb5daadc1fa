using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing;

/// <summary>
/// Ready-made invariants over a policy. Each returns a <see cref="PolicyInvariant"/>: call <c>Assert()</c> in a test
/// (it throws with a minimal counterexample in plain words), <c>Check()</c> for a result object, or return
/// <c>ToProperty()</c> from an FsCheck <c>[Property]</c> test.
/// </summary>
/// <example>
/// <code>
/// PolicyInvariants.NeverAllows(policy, "delete_*", unless: id =&gt; id.HasRole("admin")).Assert();
/// PolicyInvariants.AdmitsAtMost(policy, "execute_python_code", 10, per: TimeSpan.FromMinutes(1)).Assert();
/// PolicyInvariants.OnlyTightens(oldPolicy, newPolicy).Assert();
/// </code>
/// </example>
public static class PolicyInvariants
{
    /// <summary>
    /// No call of a tool matching <paramref name="toolPattern"/> is ever allowed, except for callers
    /// <paramref name="unless"/> accepts. A call that needs approval, is denied or rate-limited is not an allow.
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <param name="toolPattern">A tool name or glob (<c>*</c>, <c>?</c>), such as <c>delete_*</c>.</param>
    /// <param name="unless">Callers who may be allowed (for example <c>id =&gt; id.HasRole("admin")</c>); <see langword="null"/> for nobody.</param>
    /// <returns>The invariant.</returns>
    public static PolicyInvariant NeverAllows(PolicyDocument policy, string toolPattern, Func<PolicyIdentity, bool>? unless = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(toolPattern);
        var compiled = Policy.Compile(policy);
        var targets = PolicyGen.Targets([policy]);
        var calls = PolicyGen.PatternCallGen(targets, toolPattern);
        var description = $"never allows {JsonText.Quote(toolPattern)}" + (unless is null ? string.Empty : " unless the caller is exempt");
        return new PolicyInvariant(description, calls.Select(c => new[] { c }), scenario =>
        {
            var call = scenario[0];
            if (unless is not null && unless(call.Identity))
            {
                return null;
            }

            var decision = Scenario.Run(compiled, scenario)[0];
            return decision.IsAllowed
                ? $"{call}\n  was allowed ({Scenario.Describe(decision)}), but {JsonText.Quote(toolPattern)} must never be allowed{(unless is null ? string.Empty : " for this caller")}"
                : null;
        });
    }

    /// <summary>
    /// Calls of <paramref name="tool"/> are admitted at most <paramref name="max"/> times in any window of length
    /// <paramref name="per"/> (windows aligned to the Unix epoch, so a minute or an hour matches the UTC calendar),
    /// per caller or in total. Checked over timed sequences that burst within a window and cross window boundaries.
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="max">The most calls that may be admitted in one window.</param>
    /// <param name="per">The window length, such as <c>TimeSpan.FromMinutes(1)</c>.</param>
    /// <param name="perIdentity"><see langword="true"/> (the default) to count each caller's calls apart; <see langword="false"/> to count every caller's together.</param>
    /// <returns>The invariant.</returns>
    public static PolicyInvariant AdmitsAtMost(PolicyDocument policy, string tool, long max, TimeSpan per, bool perIdentity = true)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(tool);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(per, TimeSpan.Zero);
        var compiled = Policy.Compile(policy);
        var targets = PolicyGen.Targets([policy]);
        var sequences = PolicyGen.SequenceGen(targets, [tool]);
        var description = string.Create(CultureInfo.InvariantCulture, $"admits at most {max} calls of {JsonText.Quote(tool)} per {Words(per)}{(perIdentity ? " per caller" : string.Empty)}");
        return new PolicyInvariant(description, sequences, scenario =>
        {
            var decisions = Scenario.Run(compiled, scenario);
            var counts = new Dictionary<(string, long), int>();
            for (var i = 0; i < scenario.Length; i++)
            {
                if (!decisions[i].IsAllowed || scenario[i].Tool != tool)
                {
                    continue;
                }

                var at = scenario[i].At ?? PolicyGen.Epoch;
                var window = (at - DateTimeOffset.UnixEpoch).Ticks / per.Ticks;
                var key = (perIdentity ? scenario[i].Identity.Id : string.Empty, window);
                counts[key] = counts.GetValueOrDefault(key) + 1;
                if (counts[key] > max)
                {
                    var start = DateTimeOffset.UnixEpoch + TimeSpan.FromTicks(window * per.Ticks);
                    var who = perIdentity ? $" for {JsonText.Quote(scenario[i].Identity.Id)}" : string.Empty;
                    return new StringBuilder()
                        .Append(CultureInfo.InvariantCulture, $"{counts[key]} calls of {JsonText.Quote(tool)} were admitted{who} in the window starting {start.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} (at most {max} per {Words(per)}):\n")
                        .Append(Scenario.Listing(scenario[..(i + 1)], decisions.Select(Scenario.Describe).ToArray()))
                        .ToString().TrimEnd('\n');
                }
            }

            return null;
        });
    }

    /// <summary>
    /// No call that <paramref name="oldPolicy"/> refuses (denies, rate-limits or sends for approval) is let further by
    /// <paramref name="newPolicy"/>: the new decision is always at least as strict (allow &lt; needs approval &lt;
    /// rate-limited or denied). Checked over single calls and over bursts of one call repeated (for limits).
    /// </summary>
    /// <param name="oldPolicy">The policy in force.</param>
    /// <param name="newPolicy">The proposed change.</param>
    /// <returns>The invariant.</returns>
    public static PolicyInvariant OnlyTightens(PolicyDocument oldPolicy, PolicyDocument newPolicy) =>
        Compare(oldPolicy, newPolicy, "the new policy only tightens the old one", (old, updated) =>
            Scenario.Strictness(updated.Kind) < Scenario.Strictness(old.Kind) ? "the new policy is looser" : null);

    /// <summary>
    /// Both policies make the same kind of decision (allow, deny, rate-limited, needs approval) for every call and
    /// every burst of repeated calls — for example a refactored or migrated policy and the original.
    /// </summary>
    /// <param name="policyA">One policy.</param>
    /// <param name="policyB">The other.</param>
    /// <returns>The invariant.</returns>
    public static PolicyInvariant DecidesLike(PolicyDocument policyA, PolicyDocument policyB) =>
        Compare(policyA, policyB, "both policies decide alike", (a, b) => a.Kind != b.Kind ? "the decisions differ" : null);

    private static PolicyInvariant Compare(PolicyDocument first, PolicyDocument second, string description, Func<Decision, Decision, string?> differs)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var a = Policy.Compile(first);
        var b = Policy.Compile(second);
        var targets = PolicyGen.Targets([first, second]);
        var scenarios = ComparisonScenarios(targets);
        var (nameA, nameB) = description.StartsWith("the new", StringComparison.Ordinal) ? ("old", "new") : ("A", "B");
        return new PolicyInvariant(description, scenarios, scenario =>
        {
            var left = Scenario.Run(a, scenario);
            var right = Scenario.Run(b, scenario);
            for (var i = 0; i < scenario.Length; i++)
            {
                if (differs(left[i], right[i]) is { } what)
                {
                    var where = scenario.Length == 1 ? $"{scenario[0]}\n" : $"call {i + 1} of {scenario.Length} identical calls at the same instant:\n  {scenario[i]}\n";
                    return $"{where}  policy {nameA}: {Scenario.Describe(left[i])}\n  policy {nameB}: {Scenario.Describe(right[i])}\n  ({what})";
                }
            }

            return null;
        });
    }

    /// <summary>Single calls, and now and then one call repeated at one instant (long enough to pass every limit).</summary>
    internal static Gen<PolicyCall[]> ComparisonScenarios(PolicyTargets targets)
    {
        var longest = targets.Limits.Count == 0 ? 2 : (int)Math.Min(targets.Limits.Max(l => l.Limit.Max / Math.Max(1, l.Limit.Cost)) + 2, 40);
        // Tools whose rules differ between the policies get three calls in four.
        var changed = targets.ChangedToolNames();
        var single = changed.Length == 0 || changed.Length == targets.ToolNames.Length
            ? PolicyGen.CallGen(targets, targets.ToolNames)
            : Gen.Frequency((3, PolicyGen.CallGen(targets, changed)), (1, PolicyGen.CallGen(targets, targets.ToolNames)));
        var burst = from call in single
                    from count in Gen.Choose(2, Math.Max(2, longest))
                    select Enumerable.Repeat(call.WithTime(PolicyGen.Epoch), count).ToArray();
        return Gen.Frequency((4, single.Select(c => new[] { c })), (1, burst));
    }

    private static string Words(TimeSpan span) =>
        span == TimeSpan.FromMinutes(1) ? "minute"
        : span == TimeSpan.FromHours(1) ? "hour"
        : span == TimeSpan.FromDays(1) ? "day"
        : span.ToString("c", CultureInfo.InvariantCulture);
}
