using System.Text;

namespace PolicyEngine;

/// <summary>
/// Thrown when a policy document is not valid. <see cref="Errors"/> lists every problem found, not just the first.
/// </summary>
public sealed class PolicyValidationException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    /// <param name="errors">Every problem found; must not be empty.</param>
    public PolicyValidationException(IReadOnlyList<PolicyError> errors)
        : base(FormatMessage(errors))
    {
        ArgumentNullException.ThrowIfNull(errors);
        Errors = errors;
    }

    /// <summary>Every problem found in the document, in document order where possible.</summary>
    public IReadOnlyList<PolicyError> Errors { get; }

    private static string FormatMessage(IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var text = new StringBuilder();
        text.Append("the policy document is not valid (")
            .Append(errors.Count)
            .Append(errors.Count == 1 ? " problem)" : " problems)");
        const int Shown = 20;
        for (var i = 0; i < errors.Count && i < Shown; i++)
        {
            text.Append(Environment.NewLine).Append("  ").Append(errors[i]);
        }

        if (errors.Count > Shown)
        {
            text.Append(Environment.NewLine).Append("  … and ").Append(errors.Count - Shown).Append(" more");
        }

        return text.ToString();
    }
}
