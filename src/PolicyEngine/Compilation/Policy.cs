using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using PolicyEngine.Compilation;
using PolicyEngine.Decisions;
using PolicyEngine.Json;
using PolicyEngine.Matching;

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
}
