using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using PolicyEngine.Compilation;
using PolicyEngine.Decisions;
using PolicyEngine.Matching;

namespace PolicyEngine;

// The policy, its tool table: one hash lookup for exact names, globs by specificity, decisions settled by name alone.
public sealed partial class Policy
{
    /// <summary>Whether <c>hide</c> covers the tool.</summary>
    internal bool IsHidden(string tool) => Lookup(tool, out _);

    /// <summary>The entry that governs the tool: an exact name, else the most specific matching glob.</summary>
    internal CompiledRules? Find(string tool)
    {
        Lookup(tool, out var rules);
        return rules;
    }

    /// <summary>
    /// Finds, with one hash lookup for exact names, whether <c>hide</c> covers the tool and which entry governs it
    /// (an exact name, else the glob with the longest literal prefix). Returns <see langword="true"/> when hidden.
    /// </summary>
    internal bool Lookup(string tool, out CompiledRules? rules)
    {
        rules = null;
        if (_hideAll)
        {
            return true;
        }

        if (_exact.TryGetValue(tool, out var slot))
        {
            if (slot.Hidden)
            {
                return true;
            }

            rules = slot.Rules;
        }

        foreach (var glob in _hiddenGlobs)
        {
            if (Glob.IsMatch(glob, tool))
            {
                rules = null;
                return true;
            }
        }

        if (rules is null)
        {
            foreach (var glob in _globs)
            {
                if (Glob.IsMatch(glob.Name!, tool))
                {
                    rules = glob;
                    break;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The decision for <paramref name="tool"/> when it depends on nothing but the name (hidden, default deny, a
    /// disabled tool, an entry with no rules), or <see langword="null"/> when the call must be evaluated.
    /// </summary>
    /// <param name="tool">The tool name.</param>
    /// <param name="argsAreObject">Whether the arguments are an object (or absent): an allow, or a denial that
    /// comes after the arguments check, is only settled then.</param>
    /// <param name="identity">The caller: an entry whose checks read only the identity settles by what they decided
    /// for it before (<see cref="ToolSlot.MemoSlot"/>).</param>
    /// <param name="match">What the lookup found, when it is complete, so evaluation need not look again.</param>
    internal Verdict? FixedDecision(string tool, bool argsAreObject, PolicyIdentity identity, out ToolMatch match)
    {
        if (_exact.TryGetValue(tool, out var slot))
        {
            // Hide globs were applied to exact names at compile time, so an exact hit is the whole answer.
            match = new ToolMatch(Known: true, slot.Hidden, slot.Hidden ? null : slot.Rules);
            if (slot.Settled is { } settled && (argsAreObject || slot.SettledBeforeArguments))
            {
                return settled;
            }

            // An entry whose checks read only the identity: what they decided for this caller, once they have run.
            return slot.MemoSlot >= 0 && argsAreObject ? identity.Recall(this, slot.MemoSlot) : null;
        }

        if (_catchAll is { } catchAll)
        {
            match = new ToolMatch(Known: true, Hidden: false, catchAll.Rules);
            return catchAll.Settled is { } settledByStar && argsAreObject ? settledByStar : null;
        }

        match = _globs.Length == 0 && _hiddenGlobs.Length == 0 ? new ToolMatch(Known: true, _hideAll, null) : default;
        return _unmatched is { } unmatched && (argsAreObject || unmatched.Kind == DecisionKind.Deny) ? unmatched : null;
    }

    /// <summary>The result of looking a tool name up: whether it is hidden and which entry governs it.</summary>
    /// <param name="Known">Whether the lookup is complete (otherwise globs must still be tried).</param>
    /// <param name="Hidden">Whether <c>hide</c> covers the name.</param>
    /// <param name="Rules">The governing entry, if any.</param>
    internal readonly record struct ToolMatch(bool Known, bool Hidden, CompiledRules? Rules);

    /// <summary>
    /// An exact tool name's entry, whether <c>hide</c> names it, and the decision every call of the name gets when it
    /// depends on nothing else. A struct stored in the table itself: one lookup, no further indirection.
    /// </summary>
    private readonly struct ToolSlot(CompiledRules? rules, bool hidden, Verdict? settled = null, bool settledBeforeArguments = false, int memoSlot = -1)
    {
        public CompiledRules? Rules { get; } = rules;

        public bool Hidden { get; } = hidden;

        public Verdict? Settled { get; } = settled;

        /// <summary>Whether <see cref="Settled"/> comes before the arguments check (hidden), so it holds for any arguments.</summary>
        public bool SettledBeforeArguments { get; } = settledBeforeArguments;

        /// <summary>
        /// The entry's slot in each identity's memo when its checks alone decide, read nothing but the identity, and
        /// no <c>all_tools</c> applies: the memo then holds the whole decision (the entry's allow, or the denial).
        /// Otherwise -1.
        /// </summary>
        public int MemoSlot { get; } = memoSlot;

        public ToolSlot Settle(Policy policy)
        {
            if (policy._hideAll || Hidden || IsHiddenByGlob(policy))
            {
                return new ToolSlot(Rules, hidden: true, policy.Hidden, settledBeforeArguments: true);
            }

            if (Rules?.ActionDenial is { } denial)
            {
                return new ToolSlot(Rules, hidden: false, denial);
            }

            if (Rules is { IsEmpty: true } && policy.AllTools is null)
            {
                return new ToolSlot(Rules, hidden: false, Rules.Allow);
            }

            if (Rules is { ChecksOnly: true, IdentityMemoSlot: >= 0 } && policy.AllTools is null)
            {
                return new ToolSlot(Rules, hidden: false, memoSlot: Rules.IdentityMemoSlot);
            }

            return this;
        }

        private bool IsHiddenByGlob(Policy policy)
        {
            foreach (var glob in policy._hiddenGlobs)
            {
                if (Rules?.Name is { } name && Glob.IsMatch(glob, name))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
