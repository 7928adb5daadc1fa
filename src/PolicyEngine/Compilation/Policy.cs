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
public sealed class Policy
{
    // One hash lookup per call: every exact name, listed or hidden, has one slot.
    private readonly FrozenDictionary<string, ToolSlot> _exact;
    private readonly CompiledRules[] _globs;
    private readonly string[] _hiddenGlobs;
    private readonly bool _hideAll;

    private Policy(PolicyDocument document)
    {
        Document = document;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(document.ToJson()));
        Version = Convert.ToHexStringLower(hash.AsSpan(0, 8));

        Hidden = new Decision(DecisionKind.Deny, "this tool is not available", BuiltInRules.Hidden, Version);
        DefaultDeny = new Decision(DecisionKind.Deny, "this tool is not allowed by the policy (default deny)", BuiltInRules.DefaultDeny, Version);
        DefaultAllow = new Decision(DecisionKind.Allow, null, BuiltInRules.DefaultAllow, Version);
        InvalidArguments = new Decision(DecisionKind.Deny, "the arguments must be a JSON object", BuiltInRules.InvalidArguments, Version);
        UnreadableArguments = new Decision(DecisionKind.Deny, "the arguments could not be evaluated against the policy", BuiltInRules.InvalidArguments, Version);
        StoreUnavailable = new Decision(DecisionKind.Deny, "the policy's counter store is unavailable; try again later", BuiltInRules.StoreUnavailable, Version);

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
        _exact = exact.ToFrozenDictionary(StringComparer.Ordinal);
        _globs = [.. globs];
        AllTools = document.AllTools is { } allTools ? Compile(allTools, "/all_tools") : null;
        if (AllTools is { IsEmpty: true })
        {
            AllTools = null;
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

    internal Decision Hidden { get; }

    internal Decision DefaultDeny { get; }

    internal Decision DefaultAllow { get; }

    internal Decision InvalidArguments { get; }

    internal Decision UnreadableArguments { get; }

    internal Decision StoreUnavailable { get; }

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

    /// <summary>An exact tool name's entry and whether <c>hide</c> names it.</summary>
    private sealed class ToolSlot(CompiledRules? rules, bool hidden)
    {
        public CompiledRules? Rules { get; } = rules;

        public bool Hidden { get; } = hidden;
    }

    private CompiledRules Compile(ToolPolicy tool, string pointer)
    {
        Decision? actionDenial = null;
        if (tool.Action == ToolAction.Deny)
        {
            actionDenial = new Decision(DecisionKind.Deny, tool.OnDeny ?? "this tool is disabled by the policy", pointer, Version);
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

            approval = new CompiledApproval([.. when], rule.Reason, rule.TimeToLive, pointer + "/approval");
        }

        var limits = new List<CompiledLimit>();
        var index = 0;
        foreach (var limit in tool.Limits ?? [])
        {
            var reason = limit.OnDeny ?? $"rate limit reached: {limit.Counter} allows {limit.Max} per {limit.Window}";
            limits.Add(new CompiledLimit(limit, $"{pointer}/limits/{index++}", reason));
        }

        var allow = new Decision(DecisionKind.Allow, null, pointer, Version);
        return new CompiledRules(tool.Name, pointer, actionDenial, tool.CompiledArgsSchema, [.. checks], approval, [.. limits], allow);
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
            checks.Add(new CompiledCheck(compiled, isRequire, rule, new Decision(DecisionKind.Deny, reason, rule, Version)));
        }
    }

    private static CompiledPredicate CompilePredicate(PolicyPredicate predicate) => predicate switch
    {
        ComparisonPredicate comparison => new ComparisonEvaluator(comparison),
        CompositePredicate composite => CompileComposite(composite),
        _ => throw new ArgumentException("unknown predicate type", nameof(predicate)),
    };

    private static CompositeEvaluator CompileComposite(CompositePredicate composite)
    {
        var operands = new CompiledPredicate[composite.Operands.Count];
        for (var i = 0; i < operands.Length; i++)
        {
            operands[i] = CompilePredicate(composite.Operands[i]);
        }

        return new CompositeEvaluator(composite.Kind, operands);
    }
}
