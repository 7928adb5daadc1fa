using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using PolicyEngine.Compilation;
using PolicyEngine.Evaluation;

namespace PolicyEngine;

/// <summary>
/// A policy compiled into an immutable decision tree: exact tool names in a frozen hash table, globs ordered by
/// specificity, predicates with parsed operands and prebuilt regexes, and every decision that depends only on the
/// policy built in advance. Thread-safe; reading it allocates nothing.
/// </summary>
public sealed partial class Policy
{
    // One hash lookup per call: every exact name, listed or hidden, has one slot.
    private readonly FrozenDictionary<string, ToolSlot> _exact;
    private readonly CompiledRules[] _globs;
    private readonly string[] _hiddenGlobs;
    private readonly bool _hideAll;

    // The decision for a name no exact entry matches, when no glob could match it either.
    private readonly Verdict? _unmatched;

    // A lone "*" entry (a catch-all, typically carrying the default's reason) with no hide globs: every name no exact
    // entry matches is governed by it, so it is settled like an exact entry and costs what plain `default` costs.
    private readonly ToolSlot? _catchAll;

    private Policy(PolicyDocument document)
    {
        Document = document;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(document.ToJson()));
        Version = Convert.ToHexStringLower(hash.AsSpan(0, 8));

        Hidden = new Verdict(DecisionKind.Deny, "this tool is not available", BuiltInRules.Hidden, Version);
        DefaultDeny = new Verdict(DecisionKind.Deny, "this tool is not allowed by the policy (default deny)", BuiltInRules.DefaultDeny, Version);
        DefaultAllow = new Verdict(DecisionKind.Allow, null, BuiltInRules.DefaultAllow, Version);
        InvalidArguments = new Verdict(DecisionKind.Deny, "the arguments must be a JSON object", BuiltInRules.InvalidArguments, Version);
        UnreadableArguments = new Verdict(DecisionKind.Deny, "the arguments could not be evaluated against the policy", BuiltInRules.InvalidArguments, Version);
        StoreUnavailable = new Verdict(DecisionKind.Deny, "the policy's counter store is unavailable; try again later", BuiltInRules.StoreUnavailable, Version);

        var hiddenExact = new List<string>();
        var hiddenGlobs = new List<string>();
        foreach (var name in document.Hide ?? [])
        {
            if (name == "*")
            {
                _hideAll = true;
            }
            else if (document.Version != "1" && Glob.HasWildcard(name))
            {
                hiddenGlobs.Add(name);
            }
            else
            {
                hiddenExact.Add(name);
            }
        }

        _hiddenGlobs = [.. hiddenGlobs];

        // all_tools first: its checks run on every call, so it gets an identity memo slot before the tools do.
        AllTools = document.AllTools is { } allTools ? Compile(allTools, "/all_tools") : null;
        if (AllTools is { IsEmpty: true })
        {
            AllTools = null;
        }

        var exact = new Dictionary<string, ToolSlot>(StringComparer.Ordinal);
        var globs = new List<CompiledRules>();
        foreach (var tool in document.Tools)
        {
            var compiled = Compile(tool, "/tools/" + PointerBuilder.Escape(tool.Name!));
            if (Glob.HasWildcard(tool.Name!))
            {
                globs.Add(compiled);
            }
            else
            {
                exact[tool.Name!] = new ToolSlot(compiled, hidden: false);
            }
        }

        foreach (var name in hiddenExact)
        {
            exact[name] = new ToolSlot(exact.TryGetValue(name, out var listed) ? listed.Rules : null, hidden: true);
        }

        // A longer literal prefix is more specific; validation guarantees no two globs tie for a name.
        globs.Sort((a, b) => Glob.LiteralPrefixLength(b.Name!).CompareTo(Glob.LiteralPrefixLength(a.Name!)));
        _globs = [.. globs];
        // Decisions that depend on nothing but the tool name are settled now, so such calls cost one lookup.
        foreach (var name in exact.Keys.ToArray())
        {
            exact[name] = exact[name].Settle(this);
        }

        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal);
        if (_hideAll)
        {
            _unmatched = Hidden;
        }
        else if (_globs is [{ Name: "*" } star] && _hiddenGlobs.Length == 0)
        {
            _catchAll = new ToolSlot(star, hidden: false).Settle(this);
        }
        else if (_globs.Length == 0 && _hiddenGlobs.Length == 0)
        {
            _unmatched = Default == DefaultAction.Deny ? DefaultDeny : AllTools is null ? DefaultAllow : null;
        }
    }

    /// <summary>The document this policy was compiled from.</summary>
    public PolicyDocument Document { get; }

    /// <summary>
    /// A short identifier of the policy's content (hex of the first 8 bytes of the SHA-256 of its canonical JSON):
    /// equal documents compile to equal versions. Decisions, audit events and approvals carry it.
    /// </summary>
    public string Version { get; }

    internal CompiledRules? AllTools { get; }

    internal Verdict Hidden { get; }

    internal Verdict DefaultDeny { get; }

    internal Verdict DefaultAllow { get; }

    internal Verdict InvalidArguments { get; }

    internal Verdict UnreadableArguments { get; }

    internal Verdict StoreUnavailable { get; }

    internal DefaultAction Default => Document.Default;

    /// <summary>Compiles a validated document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The immutable decision tree.</returns>
    public static Policy Compile(PolicyDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new Policy(document);
    }

    /// <summary>Parses, validates and compiles a JSON policy in one step.</summary>
    /// <param name="json">The policy document.</param>
    /// <returns>The compiled policy.</returns>
    /// <exception cref="PolicyValidationException">The document is not valid.</exception>
    public static Policy Parse(string json) => Compile(PolicyDocument.Parse(json));

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
    /// <param name="match">What the lookup found, when it is complete, so evaluation need not look again.</param>
    internal Verdict? FixedDecision(string tool, bool argsAreObject, out ToolMatch match)
    {
        if (_exact.TryGetValue(tool, out var slot))
        {
            // Hide globs were applied to exact names at compile time, so an exact hit is the whole answer.
            match = new ToolMatch(Known: true, slot.Hidden, slot.Hidden ? null : slot.Rules);
            return slot.Settled is { } settled && (argsAreObject || slot.SettledBeforeArguments) ? settled : null;
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
    private readonly struct ToolSlot(CompiledRules? rules, bool hidden, Verdict? settled = null, bool settledBeforeArguments = false)
    {
        public CompiledRules? Rules { get; } = rules;

        public bool Hidden { get; } = hidden;

        public Verdict? Settled { get; } = settled;

        /// <summary>Whether <see cref="Settled"/> comes before the arguments check (hidden), so it holds for any arguments.</summary>
        public bool SettledBeforeArguments { get; } = settledBeforeArguments;

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

    /// <summary>At most this many entries have their identity-only checks remembered per identity (8 bytes each).</summary>
    private const int MaxIdentityMemoSlots = 64;

    /// <summary>How many entries have an identity memo slot (<see cref="CompiledRules.IdentityMemoSlot"/>).</summary>
    internal int IdentityMemoSlots { get; private set; }

    private CompiledRules Compile(ToolPolicy tool, string pointer)
    {
        Verdict? actionDenial = null;
        if (tool.Action == ToolAction.Deny)
        {
            actionDenial = new Verdict(DecisionKind.Deny, tool.OnDeny ?? "this tool is disabled by the policy", pointer, Version);
        }

        var checks = new List<CompiledCheck>();
        AddChecks(checks, tool.Require, pointer + "/require", isRequire: true);
        AddChecks(checks, tool.DenyIf, pointer + "/deny_if", isRequire: false);

        CompiledApproval? approval = null;
        if (tool.Approval is { } rule)
        {
            var when = new List<CompiledPredicate>();
            foreach (var predicate in rule.When ?? [])
            {
                when.Add(CompilePredicate(predicate));
            }

            CompiledPredicate[]? approvers = null;
            if (rule.Approvers is { } approverPredicates)
            {
                approvers = new CompiledPredicate[approverPredicates.Count];
                for (var i = 0; i < approvers.Length; i++)
                {
                    approvers[i] = CompilePredicate(approverPredicates[i]);
                }
            }

            approval = new CompiledApproval([.. when], rule.Reason, rule.TimeToLive, pointer + "/approval", approvers, rule);
        }

        var limits = new List<CompiledLimit>();
        var index = 0;
        foreach (var limit in tool.Limits ?? [])
        {
            var reason = limit.OnDeny ?? $"rate limit reached: {limit.Counter} allows {limit.Max} per {limit.Window}";
            limits.Add(new CompiledLimit(limit, $"{pointer}/limits/{index++}", reason, Version));
        }

        var allow = new Verdict(DecisionKind.Allow, null, pointer, Version);
        var memoSlot = -1;
        if (actionDenial is null && tool.CompiledArgsSchema is null && checks.Count > 0
            && checks.TrueForAll(check => check.Predicate.ReadsIdentityOnly) && IdentityMemoSlots < MaxIdentityMemoSlots)
        {
            memoSlot = IdentityMemoSlots++;
        }

        return new CompiledRules(tool.Name, pointer, actionDenial, tool.CompiledArgsSchema, [.. checks], approval, [.. limits], allow, memoSlot);
    }

    private void AddChecks(List<CompiledCheck> checks, IReadOnlyList<PolicyPredicate>? predicates, string pointer, bool isRequire)
    {
        if (predicates is null)
        {
            return;
        }

        for (var i = 0; i < predicates.Count; i++)
        {
            var compiled = CompilePredicate(predicates[i]);
            var reason = predicates[i].OnDeny
                ?? (isRequire ? $"requirement not met: {compiled.Describe()}" : $"denied because {compiled.Describe()}");
            var rule = $"{pointer}/{i}";
            checks.Add(new CompiledCheck(compiled, isRequire, rule, new Verdict(DecisionKind.Deny, reason, rule, Version)));
        }
    }

    private static CompiledPredicate CompilePredicate(PolicyPredicate predicate) => predicate switch
    {
        ComparisonPredicate comparison => new ComparisonEvaluator(comparison),
        CompositePredicate composite => CompileComposite(composite),
        _ => throw new ArgumentException("unknown predicate type", nameof(predicate)),
    };

    private static CompiledPredicate CompileComposite(CompositePredicate composite)
    {
        var operands = new CompiledPredicate[composite.Operands.Count];
        for (var i = 0; i < operands.Length; i++)
        {
            operands[i] = CompilePredicate(composite.Operands[i]);
        }

        return IdentitySetEvaluator.Optimize(composite.Kind, operands, new CompositeEvaluator(composite.Kind, operands));
    }
}
