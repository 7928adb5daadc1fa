using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;

namespace PolicyEngine;

/// <summary>What a caller may be shown: the tools some call of which the policy could allow.</summary>
public sealed partial class Policy
{
    /// <summary>
    /// Whether the policy could allow some call of <paramref name="tool"/> by <paramref name="identity"/>, judged
    /// from the name and the identity alone. <see langword="false"/> when <c>hide</c> covers the tool, when no entry
    /// matches it under <c>"default": "deny"</c>, when its entry is <c>"action": "deny"</c>, or when a check that
    /// reads only the identity (a <c>require</c> or <c>deny_if</c> on <c>identity.…</c> paths, the tool's or
    /// <c>all_tools</c>') denies this caller whatever the arguments. <see langword="true"/> otherwise, including for
    /// tools whose calls may still be denied by their arguments, a limit or a person's approval.
    /// </summary>
    /// <remarks>Hosts use it to list only the tools a caller could use (the MCP adapter's <c>HideNeverAllowedTools</c>).</remarks>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <returns>Whether some call could be allowed.</returns>
    public bool MayAllow(PolicyIdentity identity, string tool)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        if (Lookup(tool, out var rules))
        {
            return false;
        }

        if (rules is null)
        {
            if (Default == DefaultAction.Deny)
            {
                return false;
            }
        }
        else if (rules.ActionDenial is not null || !IdentityChecksPass(rules, identity))
        {
            return false;
        }

        return AllTools is null || IdentityChecksPass(AllTools, identity);
    }

    /// <summary>Whether every check of <paramref name="rules"/> that reads only the identity lets the caller through.</summary>
    private static bool IdentityChecksPass(CompiledRules rules, PolicyIdentity identity)
    {
        var context = new EvaluationContext(default, null, identity);
        foreach (var check in rules.Checks)
        {
            if (!check.Predicate.ReadsIdentityOnly)
            {
                continue;
            }

            var ambiguous = false;
            var holds = check.Predicate.Holds(context, ref ambiguous);

            // An undecidable check denies under require and deny_if alike.
            if (ambiguous || holds != check.IsRequire)
            {
                return false;
            }
        }

        return true;
    }
}
