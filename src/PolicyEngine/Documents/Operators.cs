namespace PolicyEngine.Documents;

/// <summary>What an operator's <c>value</c> must be; the parser checks it, the schema states it, generators make it.</summary>
internal enum OperandKind
{
    /// <summary>Any JSON value (<c>eq</c>, <c>neq</c>, <c>contains</c>).</summary>
    Any,

    /// <summary>An array of values (<c>in</c>, <c>not_in</c>).</summary>
    Array,

    /// <summary>A number (<c>lt</c>, <c>lte</c>, <c>gt</c>, <c>gte</c>).</summary>
    Number,

    /// <summary><c>true</c> or <c>false</c> (<c>exists</c>).</summary>
    Boolean,

    /// <summary>A regex pattern string, within the regex budget (<c>regex</c>).</summary>
    Pattern,

    /// <summary>A string (<c>starts_with</c>, <c>ends_with</c>, <c>glob</c>).</summary>
    String,

    /// <summary>An absolute directory path string (<c>path_under</c>).</summary>
    DirectoryPath,
}

/// <summary>One predicate operator: its enum value, document spelling, operand and the first version that has it.</summary>
/// <param name="Operator">The operator.</param>
/// <param name="Name">The spelling in documents (<c>"op"</c>).</param>
/// <param name="Operand">What its <c>value</c> must be.</param>
/// <param name="V2">Whether only version <c>"2"</c> documents may use it (the v1 set is also Intercept's).</param>
internal sealed record OperatorInfo(PredicateOperator Operator, string Name, OperandKind Operand, bool V2);

/// <summary>
/// The operator table: the one definition the parser (names, version, operand check), the writer, the linter,
/// compiled comparisons' descriptions, the Intercept importer (the v1 set), the Testing generators and a test of
/// <c>schemas/policy-v*.schema.json</c> all read. Adding an operator is one <see cref="PredicateOperator"/> member,
/// one entry here and its case in <c>ComparisonEvaluator</c>.
/// </summary>
internal static class Operators
{
    /// <summary>Every operator, in <see cref="PredicateOperator"/> order (the order documentation lists them in).</summary>
    public static readonly OperatorInfo[] All =
    [
        new(PredicateOperator.Eq, "eq", OperandKind.Any, V2: false),
        new(PredicateOperator.Neq, "neq", OperandKind.Any, V2: false),
        new(PredicateOperator.In, "in", OperandKind.Array, V2: false),
        new(PredicateOperator.NotIn, "not_in", OperandKind.Array, V2: false),
        new(PredicateOperator.Lt, "lt", OperandKind.Number, V2: false),
        new(PredicateOperator.Lte, "lte", OperandKind.Number, V2: false),
        new(PredicateOperator.Gt, "gt", OperandKind.Number, V2: false),
        new(PredicateOperator.Gte, "gte", OperandKind.Number, V2: false),
        new(PredicateOperator.Regex, "regex", OperandKind.Pattern, V2: false),
        new(PredicateOperator.Contains, "contains", OperandKind.Any, V2: false),
        new(PredicateOperator.Exists, "exists", OperandKind.Boolean, V2: false),
        new(PredicateOperator.StartsWith, "starts_with", OperandKind.String, V2: true),
        new(PredicateOperator.EndsWith, "ends_with", OperandKind.String, V2: true),
        new(PredicateOperator.Glob, "glob", OperandKind.String, V2: true),
        new(PredicateOperator.PathUnder, "path_under", OperandKind.DirectoryPath, V2: true),
    ];

    private static readonly Dictionary<string, OperatorInfo> ByName = All.ToDictionary(o => o.Name, StringComparer.Ordinal);

    /// <summary>The names version <c>"1"</c> documents (and Intercept conditions) may use, in table order.</summary>
    public static readonly string[] V1Names = All.Where(o => !o.V2).Select(o => o.Name).ToArray();

    /// <summary>The entry of <paramref name="op"/>.</summary>
    public static OperatorInfo Of(PredicateOperator op) =>
        (uint)op < (uint)All.Length && All[(int)op].Operator == op ? All[(int)op] : throw new ArgumentOutOfRangeException(nameof(op));

    /// <summary>The document spelling of <paramref name="op"/>.</summary>
    public static string Name(PredicateOperator op) => Of(op).Name;

    /// <summary>The operator a document spells <paramref name="name"/>, if any (ordinal).</summary>
    public static bool TryFind(string name, out OperatorInfo info) => ByName.TryGetValue(name, out info!);
}
