using PolicyEngine.Json;
using PolicyEngine.Matching;

namespace PolicyEngine;

/// <summary>
/// Finds rules in a valid policy that can never fire or never matter: contradictory or always-true predicates,
/// limits another limit makes unreachable, <c>cost_from</c> arguments <c>args_schema</c> says are not integers,
/// redundant or unreachable <c>hide</c> entries, approvals on tools that are always denied and, given the tools a
/// server lists, entries that match none of them or are shadowed for every tool they match.
/// </summary>
/// <remarks>
/// Linting is static and conservative: a finding is reported only when the document alone proves it (a warning may
/// still be what the author meant, such as a deliberate belt-and-braces limit). It never changes a decision.
/// </remarks>
public static partial class PolicyLinter
{
    /// <summary>Lints a document.</summary>
    /// <param name="document">A valid policy document.</param>
    /// <param name="serverTools">
    /// The tool names the server lists (from <c>tools/list</c>, for example saved by <c>policyengine init --save-tools</c>);
    /// <see langword="null"/> skips the checks that need them.
    /// </param>
    /// <returns>The findings, in document order.</returns>
    public static IReadOnlyList<LintFinding> Lint(PolicyDocument document, IEnumerable<string>? serverTools = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var tools = serverTools is null ? null : new SortedSet<string>(serverTools, StringComparer.Ordinal);
        var findings = new List<LintFinding>();
        var hide = document.Hide ?? [];

        LintHide(hide, tools, findings);

        var allTools = document.AllTools is { } all ? LintEntry(all, "/all_tools", null, findings) : default;
        foreach (var entry in document.Tools)
        {
            var pointer = "/tools/" + PointerBuilder.Escape(entry.Name!);
            var hiddenBy = HiddenBy(entry.Name!, hide, document, tools);
            // A hidden entry that denies is a deliberate second line (it keeps the tool denied if taken out of hide).
            if (hiddenBy is not null && entry.DeclaredAction != ToolAction.Deny)
            {
                findings.Add(new LintFinding(pointer, LintSeverity.Warning, LintCodes.EntryHidden,
                    $"every tool this entry governs is hidden ({hiddenBy}): its rules never run; remove the entry or the hide entry"));
            }

            var verdict = LintEntry(entry, pointer, document.AllTools, findings);
            if (entry.Approval is not null && hiddenBy is null)
            {
                var deniedBy = verdict.AlwaysDeniedBy ?? allTools.AlwaysDeniedBy;
                if (deniedBy is not null)
                {
                    findings.Add(new LintFinding(pointer + "/approval", LintSeverity.Warning, LintCodes.ApprovalNeverAsked,
                        $"every call of this tool is denied ({deniedBy}) before approval could be asked: nobody is ever asked; remove the approval rule or the denial"));
                }
            }
        }

        if (document.AllTools?.Approval is not null && allTools.AlwaysDeniedBy is { } everythingDenied)
        {
            findings.Add(new LintFinding("/all_tools/approval", LintSeverity.Warning, LintCodes.ApprovalNeverAsked,
                $"every call is denied ({everythingDenied}) before approval could be asked: nobody is ever asked"));
        }

        if (tools is not null)
        {
            LintAgainstServer(document, tools, findings);
        }

        LintLimits(document, findings);
        LintCostFrom(document, findings);
        findings.Sort((a, b) => string.CompareOrdinal(a.Pointer, b.Pointer));
        return findings;
    }

    /// <summary>The name a severity has in the CLI's output: <c>error</c>, <c>warning</c>, <c>info</c>.</summary>
    /// <param name="severity">The severity.</param>
    /// <returns>Its lowercase name.</returns>
    public static string SeverityName(LintSeverity severity) => severity switch
    {
        LintSeverity.Error => "error",
        LintSeverity.Warning => "warning",
        _ => "info",
    };

    private static string Quote(string text) => "\"" + text + "\"";

    // ------------------------------------------------------------------ hide

    private static void LintHide(IReadOnlyList<string> hide, SortedSet<string>? tools, List<LintFinding> findings)
    {
        for (var i = 0; i < hide.Count; i++)
        {
            for (var j = 0; j < hide.Count; j++)
            {
                if (i != j && Covers(hide[j], hide[i]) && (!Covers(hide[i], hide[j]) || j < i))
                {
                    findings.Add(new LintFinding($"/hide/{i}", LintSeverity.Warning, LintCodes.HideRedundant,
                        $"{Quote(hide[i])} is already hidden by /hide/{j} ({Quote(hide[j])}); remove it"));
                    break;
                }
            }

            if (tools is not null && tools.Count > 0 && !tools.Any(t => Matches(hide[i], t)))
            {
                findings.Add(new LintFinding($"/hide/{i}", LintSeverity.Warning, LintCodes.HideMatchesNothing,
                    $"{Quote(hide[i])} matches no tool the server lists: a typo, or a tool the server no longer has"));
            }
        }
    }

    /// <summary>Whether every name <paramref name="inner"/> matches is also matched by <paramref name="outer"/> (a sound approximation).</summary>
    private static bool Covers(string outer, string inner)
    {
        if (outer == "*" || string.Equals(outer, inner, StringComparison.Ordinal))
        {
            return true;
        }

        if (!Glob.HasWildcard(inner))
        {
            return Glob.IsMatch(outer, inner);
        }

        // literal* covers any pattern that starts with the same literal.
        var prefix = Glob.LiteralPrefixLength(outer);
        return prefix == outer.Length - 1 && outer[^1] == '*' && inner.StartsWith(outer.AsSpan(0, prefix), StringComparison.Ordinal);
    }

    private static bool Matches(string pattern, string name) =>
        pattern == "*" || (Glob.HasWildcard(pattern) ? Glob.IsMatch(pattern, name) : string.Equals(pattern, name, StringComparison.Ordinal));

    /// <summary>Which hide entry hides every tool the entry governs, or <see langword="null"/>.</summary>
    private static string? HiddenBy(string entry, IReadOnlyList<string> hide, PolicyDocument document, SortedSet<string>? tools)
    {
        for (var j = 0; j < hide.Count; j++)
        {
            if (Covers(hide[j], entry))
            {
                return $"/hide/{j} {Quote(hide[j])}";
            }
        }

        if (tools is null || !Glob.HasWildcard(entry))
        {
            return null;
        }

        // A glob entry whose listed tools are all hidden (by several hide entries, say).
        var governed = tools.Where(t => ReferenceEquals(Governing(document, t)?.Name, entry)).ToList();
        return governed.Count > 0 && governed.All(t => hide.Any(h => Matches(h, t)))
            ? "every listed tool it governs is in hide: " + string.Join(", ", governed)
            : null;
    }

    // ------------------------------------------------------------------ against the server's tools

    /// <summary>The entry that governs a tool name: the exact entry, else the glob with the longest literal prefix.</summary>
    private static ToolPolicy? Governing(PolicyDocument document, string tool)
    {
        ToolPolicy? best = null;
        var bestPrefix = -1;
        foreach (var entry in document.Tools)
        {
            if (string.Equals(entry.Name, tool, StringComparison.Ordinal) && !Glob.HasWildcard(entry.Name))
            {
                return entry;
            }

            if (Glob.HasWildcard(entry.Name) && Glob.IsMatch(entry.Name, tool) && Glob.LiteralPrefixLength(entry.Name) > bestPrefix)
            {
                best = entry;
                bestPrefix = Glob.LiteralPrefixLength(entry.Name);
            }
        }

        return best;
    }

    private static void LintAgainstServer(PolicyDocument document, SortedSet<string> tools, List<LintFinding> findings)
    {
        foreach (var entry in document.Tools)
        {
            var name = entry.Name!;
            var pointer = "/tools/" + PointerBuilder.Escape(name);
            var matched = tools.Where(t => Matches(name, t)).ToList();
            if (matched.Count == 0)
            {
                findings.Add(new LintFinding(pointer, LintSeverity.Warning, LintCodes.EntryMatchesNothing,
                    Glob.HasWildcard(name)
                        ? $"{Quote(name)} matches no tool the server lists"
                        : $"the server lists no tool {Quote(name)}: a typo, or a tool the server no longer has"));
                continue;
            }

            if (!Glob.HasWildcard(name))
            {
                continue;
            }

            var governed = matched.Where(t => ReferenceEquals(Governing(document, t), entry)).ToList();
            if (governed.Count == 0)
            {
                var others = matched.Select(t => $"{t} ({GoverningPointer(document, t)})");
                findings.Add(new LintFinding(pointer, LintSeverity.Warning, LintCodes.GlobShadowed,
                    $"every tool the server lists that {Quote(name)} matches has a more specific entry, so this entry never decides a call: {string.Join(", ", others)}"));
            }
        }
    }

    private static string GoverningPointer(PolicyDocument document, string tool) =>
        Governing(document, tool) is { } entry ? "/tools/" + PointerBuilder.Escape(entry.Name!) : "default";
}
