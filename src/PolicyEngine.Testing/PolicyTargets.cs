using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using PolicyEngine.Documents;

namespace PolicyEngine.Testing;

/// <summary>
/// What the generators aim at in one or more policies: the tool names worth calling, every comparison predicate
/// (with its JSON Pointer and the entry it belongs to), the limits, and per tool the argument and identity paths
/// that matter with the values at and around their boundaries.
/// </summary>
internal sealed class PolicyTargets
{
    /// <summary>Ids used for identities when the policy does not read <c>identity.id</c>.</summary>
    internal static readonly string[] DefaultIds = ["u0", "u1"];

    private readonly ConcurrentDictionary<string, ToolPaths> _byTool = new(StringComparer.Ordinal);

    private PolicyTargets(IReadOnlyList<PolicyDocument> documents)
    {
        Documents = documents;
        var names = new List<string>();
        var patterns = new List<string>();
        foreach (var document in documents)
        {
            if (document.AllTools is { } allTools)
            {
                Collect(null, "/all_tools", allTools);
            }

            foreach (var tool in document.Tools)
            {
                var name = tool.Name!;
                patterns.Add(name);
                Collect(name, "/tools/" + JsonText.PointerSegment(name), tool);
                AddNames(name, names);
            }

            foreach (var hidden in document.Hide ?? [])
            {
                patterns.Add(hidden);
                AddNames(hidden, names);
            }
        }

        foreach (var candidate in new[] { "unlisted_tool", "zz_unknown", "x" })
        {
            if (!patterns.Exists(p => JsonText.GlobMatch(p, candidate)))
            {
                names.Add(candidate);
                break;
            }
        }

        if (names.Count == 0)
        {
            names.Add("unlisted_tool");
        }

        ToolNames = [.. names.Distinct(StringComparer.Ordinal)];
        Patterns = patterns;
    }

    public IReadOnlyList<PolicyDocument> Documents { get; }

    /// <summary>Every comparison predicate, nested ones included, in document order.</summary>
    public List<Site> Comparisons { get; } = [];

    /// <summary>Argument paths read by limits (<c>scope: "args.…"</c>, <c>cost_from</c>) with their values.</summary>
    public List<(string? Entry, string Path, List<string> Values)> LimitPaths { get; } = [];

    /// <summary>Every limit with its entry (<see langword="null"/> for <c>all_tools</c>).</summary>
    public List<(string? Entry, string Pointer, LimitRule Limit)> Limits { get; } = [];

    /// <summary>Tool names worth calling: literal names, names matching each glob and hide entry, and a name nothing matches.</summary>
    public string[] ToolNames { get; }

    /// <summary>Every tool entry name and hide entry (globs included).</summary>
    public List<string> Patterns { get; }

    public static PolicyTargets Of(IReadOnlyList<PolicyDocument> documents) => new(documents);

    /// <summary>
    /// Tool names whose rules differ between the documents: a different set of matching entries or entry text, a
    /// different hide match, or (for names no entry matches) a different default or <c>all_tools</c>.
    /// </summary>
    public string[] ChangedToolNames()
    {
        if (Documents.Count < 2)
        {
            return [];
        }

        var signatures = Documents.Select(Signatures).ToList();
        return [.. ToolNames.Where(name => signatures.Select(s => s(name)).Distinct(StringComparer.Ordinal).Count() > 1)];
    }

    private static Func<string, string> Signatures(PolicyDocument document)
    {
        using var json = JsonDocument.Parse(document.ToJson());
        var root = json.RootElement;
        var entries = root.TryGetProperty("tools", out var tools)
            ? tools.EnumerateObject().Select(p => (p.Name, Text: p.Value.GetRawText())).ToList()
            : [];
        var hide = document.Hide ?? [];
        var fallback = (root.TryGetProperty("default", out var d) ? d.GetRawText() : string.Empty)
            + (root.TryGetProperty("all_tools", out var all) ? all.GetRawText() : string.Empty);
        return name =>
        {
            var matching = entries.Where(e => JsonText.GlobMatch(e.Name, name)).Select(e => e.Name + "=" + e.Text).ToList();
            return (hide.Any(h => JsonText.GlobMatch(h, name)) ? "hidden;" : string.Empty)
                + fallback + ";" + string.Join(";", matching);
        };
    }

    /// <summary>The argument and identity paths that predicates and limits of <paramref name="tool"/> read.</summary>
    public ToolPaths ForTool(string tool) => _byTool.GetOrAdd(tool, Build);

    /// <summary>Tool names matching <paramref name="pattern"/>: the policy's own names, and the pattern filled with pieces of them.</summary>
    public string[] NamesMatching(string pattern) => [.. OwnNamesMatching(pattern).Concat(FilledNames(pattern)).Distinct(StringComparer.Ordinal)];

    /// <summary>The policy's own tool names (and names derived from its globs and hide entries) that match the pattern.</summary>
    public string[] OwnNamesMatching(string pattern) => [.. ToolNames.Where(name => JsonText.GlobMatch(pattern, name))];

    /// <summary>The pattern with its wildcards filled by pieces of the policy's names and globs (<c>delete_*</c> → <c>delete_all</c>).</summary>
    public string[] FilledNames(string pattern)
    {
        var names = new List<string>();

        var fragments = new List<string> { string.Empty, "x", "all" };
        foreach (var p in Patterns)
        {
            foreach (var piece in p.Split('*', '?'))
            {
                fragments.Add(piece);
                fragments.Add(piece.Trim('_', '-', '.', ' '));
            }

            fragments.Add(p.Replace("*", string.Empty, StringComparison.Ordinal).Replace('?', 'x'));
        }

        foreach (var fragment in fragments.Distinct(StringComparer.Ordinal))
        {
            var filled = pattern.Replace("*", fragment, StringComparison.Ordinal).Replace('?', fragment.Length > 0 ? fragment[0] : 'x');
            if (JsonText.GlobMatch(pattern, filled))
            {
                names.Add(filled);
            }
        }

        return [.. names.Distinct(StringComparer.Ordinal)];
    }

    private static void AddNames(string pattern, List<string> names)
    {
        if (pattern.IndexOfAny(['*', '?']) < 0)
        {
            names.Add(pattern);
            return;
        }

        names.Add(pattern.Replace("*", string.Empty, StringComparison.Ordinal).Replace('?', 'x'));
        names.Add(pattern.Replace("*", "all", StringComparison.Ordinal).Replace('?', 'a'));
    }

    private void Collect(string? entry, string pointer, ToolPolicy rules)
    {
        CollectList(entry, pointer + "/require", rules.Require);
        CollectList(entry, pointer + "/deny_if", rules.DenyIf);
        if (rules.Approval is { } approval)
        {
            CollectList(entry, pointer + "/approval/when", approval.When);
        }

        for (var i = 0; i < (rules.Limits?.Count ?? 0); i++)
        {
            var limit = rules.Limits![i];
            Limits.Add((entry, pointer + "/limits/" + i, limit));
            if (limit.ScopeKind == LimitScopeKind.Argument)
            {
                LimitPaths.Add((entry, limit.Scope, CandidateValues.ForScopeKey()));
            }

            if (limit.CostFrom is { } costFrom)
            {
                LimitPaths.Add((entry, costFrom, CandidateValues.ForCost(limit.Max)));
            }
        }
    }

    private void CollectList(string? entry, string pointer, IReadOnlyList<PolicyPredicate>? predicates)
    {
        for (var i = 0; i < (predicates?.Count ?? 0); i++)
        {
            CollectPredicate(entry, pointer + "/" + i, predicates![i]);
        }
    }

    private void CollectPredicate(string? entry, string pointer, PolicyPredicate predicate)
    {
        switch (predicate)
        {
            case ComparisonPredicate comparison:
                Comparisons.Add(new Site(entry, pointer, comparison));
                break;
            case CompositePredicate { Kind: CompositeKind.Not } not:
                CollectPredicate(entry, pointer + "/not", not.Operands[0]);
                break;
            case CompositePredicate composite:
                var key = composite.Kind == CompositeKind.All ? "/all/" : "/any/";
                for (var i = 0; i < composite.Operands.Count; i++)
                {
                    CollectPredicate(entry, pointer + key + i, composite.Operands[i]);
                }

                break;
        }
    }

    private static bool Applies(string? entry, string tool) => entry is null || JsonText.GlobMatch(entry, tool);

    private ToolPaths Build(string tool)
    {
        var args = new Dictionary<string, List<string[]>>(StringComparer.Ordinal);
        var identity = new Dictionary<string, List<string[]>>(StringComparer.Ordinal);
        var ids = new List<string>(DefaultIds);
        foreach (var site in Comparisons)
        {
            if (!Applies(site.Entry, tool))
            {
                continue;
            }

            var path = site.Predicate.Path;
            var values = CandidateValues.For(site.Predicate);
            if (path == "identity.id")
            {
                foreach (var value in values)
                {
                    if (value.StartsWith('"'))
                    {
                        ids.Add(JsonSerializer.Deserialize<string>(value)!);
                    }
                }
            }
            else if (path.StartsWith("identity.", StringComparison.Ordinal))
            {
                Add(identity, path["identity.".Length..], values);
            }
            else if (path.StartsWith("args.", StringComparison.Ordinal))
            {
                Add(args, path["args.".Length..], values);
            }
        }

        foreach (var (entry, path, values) in LimitPaths)
        {
            if (Applies(entry, tool) && path.StartsWith("args.", StringComparison.Ordinal))
            {
                Add(args, path["args.".Length..], values);
            }
        }

        return new ToolPaths(
            [.. args.Select(p => new PathValues(p.Key.Split('.'), [.. p.Value]))],
            [.. identity.Select(p => new PathValues(p.Key.Split('.'), [.. p.Value]))],
            [.. ids.Distinct(StringComparer.Ordinal)]);
    }

    /// <summary>
    /// Adds one predicate's values as a group: a call picks a group, then a value, so no predicate is drowned by others on
    /// the same path. Repeated values weigh more.
    /// </summary>
    private static void Add(Dictionary<string, List<string[]>> paths, string path, List<string> values)
    {
        if (!paths.TryGetValue(path, out var groups))
        {
            paths[path] = groups = [CandidateValues.OffType];
        }

        groups.Add([.. values]);
    }

    /// <summary>Builds a JSON object from chosen (path, value) pairs; a pair whose path runs through a non-object is skipped.</summary>
    public static JsonObject BuildObject(IEnumerable<(string[] Segments, string Value)> choices)
    {
        var root = new JsonObject();
        foreach (var (segments, value) in choices)
        {
            var node = root;
            var ok = true;
            for (var i = 0; i < segments.Length - 1 && ok; i++)
            {
                if (!node.TryGetPropertyValue(segments[i], out var child))
                {
                    var created = new JsonObject();
                    node[segments[i]] = created;
                    node = created;
                }
                else if (child is JsonObject obj)
                {
                    node = obj;
                }
                else
                {
                    ok = false;
                }
            }

            if (ok && !node.ContainsKey(segments[^1]))
            {
                node[segments[^1]] = JsonNode.Parse(value);
            }
        }

        return root;
    }

    /// <summary>A comparison predicate, where it sits, and the tool entry it belongs to (<see langword="null"/> for <c>all_tools</c>).</summary>
    internal sealed record Site(string? Entry, string Pointer, ComparisonPredicate Predicate);

    /// <summary>One path (split at dots) and the values worth trying there, one group per predicate or limit reading it.</summary>
    internal sealed record PathValues(string[] Segments, string[][] Groups);

    /// <summary>What calls of one tool should vary.</summary>
    internal sealed record ToolPaths(PathValues[] Args, PathValues[] Identity, string[] Ids);
}
