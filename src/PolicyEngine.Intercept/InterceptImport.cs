namespace PolicyEngine.Intercept;

/// <summary>
/// The result of importing an Intercept policy: the version 2 <see cref="Document"/> and, for every version 2 rule
/// it holds, the name of the Intercept rule it came from.
/// </summary>
public sealed class InterceptImport
{
    internal InterceptImport(PolicyDocument document, IReadOnlyDictionary<string, string> ruleNames)
    {
        Document = document;
        RuleNames = ruleNames;
    }

    /// <summary>The equivalent version 2 document.</summary>
    public PolicyDocument Document { get; }

    /// <summary>
    /// Intercept rule names by the JSON Pointer of the version 2 rule made from them (the values
    /// <see cref="Decision.Rule"/> takes: <c>/tools/create_issue/limits/0</c>, <c>/all_tools/require/1</c>, …).
    /// </summary>
    public IReadOnlyDictionary<string, string> RuleNames { get; }

    /// <summary>
    /// The Intercept rule that made a decision, as Intercept reports it: the rule's name, or the built-in rule
    /// (<c>(hidden)</c>, <c>(default deny)</c>, …); <see langword="null"/> for an allow no rule made.
    /// </summary>
    /// <param name="decision">A decision of an evaluator running <see cref="Document"/>.</param>
    /// <returns>The rule name.</returns>
    public string? RuleName(Decision decision)
    {
        if (decision.Rule is not { } rule)
        {
            return null;
        }

        if (RuleNames.TryGetValue(rule, out var name))
        {
            return name;
        }

        return rule.StartsWith('(') ? rule : null;
    }
}
