using System.Text.Json;
using System.Text.RegularExpressions;

namespace PolicyEngine;

/// <summary><c>{ "path": "args.a.b", "op": "gt", "value": 10 }</c>: compares the value at a path with an operand.</summary>
public sealed class ComparisonPredicate : PolicyPredicate
{
    internal ComparisonPredicate(string path, PredicateOperator op, JsonElement value, string? onDeny, Regex? regex)
        : base(onDeny)
    {
        Path = path;
        Operator = op;
        Value = value;
        CompiledRegex = regex;
    }

    /// <summary>The dotted path, starting with <c>args.</c> or <c>identity.</c>.</summary>
    public string Path { get; }

    /// <summary>The comparison operator.</summary>
    public PredicateOperator Operator { get; }

    /// <summary>The operand (<c>value</c>; required for every operator).</summary>
    public JsonElement Value { get; }

    /// <summary>The regex built while validating, reused by the compiler.</summary>
    internal Regex? CompiledRegex { get; }
}
