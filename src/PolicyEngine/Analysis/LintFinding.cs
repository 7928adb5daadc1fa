namespace PolicyEngine;

/// <summary>One finding of <see cref="PolicyLinter.Lint(PolicyDocument, IEnumerable{string}?)"/>: a rule that can never fire or never matters.</summary>
/// <param name="Pointer">The JSON Pointer of the rule the finding is about, such as <c>/tools/create_refund/require/1</c>.</param>
/// <param name="Severity">How sure it is that the policy does not say what its author meant.</param>
/// <param name="Code">A stable identifier of the check (one of <see cref="LintCodes"/>).</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record LintFinding(string Pointer, LintSeverity Severity, string Code, string Message)
{
    /// <summary>Formats the finding as <c>severity pointer: message (code)</c>.</summary>
    /// <returns>One line.</returns>
    public override string ToString() => $"{PolicyLinter.SeverityName(Severity)} {(Pointer.Length == 0 ? "(root)" : Pointer)}: {Message} ({Code})";
}
