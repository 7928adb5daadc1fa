using System.Text.Json;
using System.Text.RegularExpressions;

namespace PolicyEngine;

/// <summary><c>{ "path": "args.a.b", "op": "gt", "value": 10 }</c>: compares the value at a path with an operand.</summary>
public sealed class ComparisonPredicate : PolicyPredicate
{
    internal ComparisonPredicate(string path, PredicateOperator op, JsonElement value, string? onDeny, Regex? regex, bool allowUnusualPaths = false)
        : base(onDeny)
    {
        AllowUnusualPaths = allowUnusualPaths;
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

    /// <summary>
    /// For <c>path_under</c> (<c>"allow_unusual_paths": true</c>, version 2): only the lexical check applies. By default
    /// a path written in a form a tool might decode or normalise differently (UNC, percent-encoding, look-alike dots,
    /// a backslash under a POSIX directory ...) makes the predicate undecidable, and the call is denied.
    /// </summary>
    public bool AllowUnusualPaths { get; }
}
