namespace PolicyEngine;

/// <summary>One rule checked while explaining a decision: which rule, whether it passed, and why.</summary>
/// <param name="Rule">The rule's JSON Pointer, or a built-in rule id such as <c>(hidden)</c>.</param>
/// <param name="Passed"><see langword="true"/> when the rule lets the call through.</param>
/// <param name="Detail">What was checked and what was found.</param>
public sealed record ExplainStep(string Rule, bool Passed, string Detail);
