namespace PolicyEngine.Documents;

/// <summary>The names and checks of the <c>approval</c> keys, shared by the parser, the writer and the compiler.</summary>
internal static class ApprovalRules
{
    /// <summary>The largest accepted <c>min_approvers</c>.</summary>
    public const int MaxApprovers = 10;

    /// <summary>The <c>wait</c> value for a name, or <see langword="null"/> for an unknown one.</summary>
    public static ApprovalWaitMode? ParseWait(string text) => text switch
    {
        "return" => ApprovalWaitMode.Return,
        "hold" => ApprovalWaitMode.Hold,
        "elicit" => ApprovalWaitMode.Elicit,
        _ => null,
    };

    /// <summary>The name of a <c>wait</c> value as written in a document.</summary>
    public static string WaitName(ApprovalWaitMode mode) => mode switch
    {
        ApprovalWaitMode.Return => "return",
        ApprovalWaitMode.Hold => "hold",
        ApprovalWaitMode.Elicit => "elicit",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "\"auto\" is never written in a document"),
    };

    /// <summary>The first path in <paramref name="predicate"/> that does not read the identity, or <see langword="null"/>.</summary>
    public static string? FirstNonIdentityPath(PolicyPredicate predicate)
    {
        switch (predicate)
        {
            case ComparisonPredicate comparison:
                return comparison.Path.StartsWith("identity.", StringComparison.Ordinal) ? null : comparison.Path;
            case CompositePredicate composite:
                foreach (var operand in composite.Operands)
                {
                    if (FirstNonIdentityPath(operand) is { } path)
                    {
                        return path;
                    }
                }

                return null;
            default:
                return "(unknown predicate)";
        }
    }

    /// <summary>Whether <paramref name="path"/> is <c>args.</c> followed by non-empty dot-separated segments.</summary>
    public static bool IsPreviewPath(string path)
    {
        if (!path.StartsWith("args.", StringComparison.Ordinal) || path.Length > 256)
        {
            return false;
        }

        foreach (var segment in path.AsSpan(5).ToString().Split('.'))
        {
            if (segment.Length == 0)
            {
                return false;
            }
        }

        return true;
    }
}
