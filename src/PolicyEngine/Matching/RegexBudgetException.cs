namespace PolicyEngine.Matching;

/// <summary>A pattern exceeds <see cref="RegexBudget"/> (or the document's distinct-pattern cap); the message says why and how to fix it.</summary>
internal sealed class RegexBudgetException(string message) : Exception(message)
{
}
