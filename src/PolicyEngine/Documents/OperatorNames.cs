using PolicyEngine.Matching;

namespace PolicyEngine.Documents;

/// <summary>The document spelling of each <see cref="PredicateOperator"/>.</summary>
internal static class OperatorNames
{
    public static string Name(PredicateOperator op) => op switch
    {
        PredicateOperator.Eq => "eq",
        PredicateOperator.Neq => "neq",
        PredicateOperator.In => "in",
        PredicateOperator.NotIn => "not_in",
        PredicateOperator.Lt => "lt",
        PredicateOperator.Lte => "lte",
        PredicateOperator.Gt => "gt",
        PredicateOperator.Gte => "gte",
        PredicateOperator.Regex => "regex",
        PredicateOperator.Contains => "contains",
        PredicateOperator.Exists => "exists",
        PredicateOperator.StartsWith => "starts_with",
        PredicateOperator.EndsWith => "ends_with",
        PredicateOperator.Glob => "glob",
        PredicateOperator.PathUnder => "path_under",
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };
}
