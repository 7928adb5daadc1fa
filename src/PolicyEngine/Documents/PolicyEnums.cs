
namespace PolicyEngine;

/// <summary>What happens to a call of a tool that no entry under <c>tools</c> matches.</summary>
public enum DefaultAction
{
    /// <summary>Unlisted tools are allowed (subject to <c>all_tools</c> rules).</summary>
    Allow,

    /// <summary>Unlisted tools are denied; listing a tool (even as <c>{}</c>) allows it.</summary>
    Deny,
}

/// <summary>The <c>action</c> of a tool entry (version 2).</summary>
public enum ToolAction
{
    /// <summary>Calls are evaluated against the entry's rules (the default).</summary>
    Allow,

    /// <summary>The tool stays visible but every call is denied with the entry's <c>on_deny</c>.</summary>
    Deny,
}

/// <summary>The comparison operator of a <see cref="ComparisonPredicate"/>.</summary>
public enum PredicateOperator
{
    /// <summary><c>eq</c>: the value equals the operand (same JSON type and value).</summary>
    Eq,

    /// <summary><c>neq</c>: the value is present and differs from the operand.</summary>
    Neq,

    /// <summary><c>in</c>: the value equals one element of the operand array.</summary>
    In,

    /// <summary><c>not_in</c>: the value is present and equals no element of the operand array.</summary>
    NotIn,

    /// <summary><c>lt</c>: the value is a number less than the operand.</summary>
    Lt,

    /// <summary><c>lte</c>: the value is a number less than or equal to the operand.</summary>
    Lte,

    /// <summary><c>gt</c>: the value is a number greater than the operand.</summary>
    Gt,

    /// <summary><c>gte</c>: the value is a number greater than or equal to the operand.</summary>
    Gte,

    /// <summary><c>regex</c>: the value is a string in which the pattern is found (unanchored, linear time).</summary>
    Regex,

    /// <summary><c>contains</c>: substring test on strings, element test on arrays.</summary>
    Contains,

    /// <summary><c>exists</c>: the path is present and not null (or, with <c>false</c>, absent or null).</summary>
    Exists,

    /// <summary><c>starts_with</c> (version 2): the value is a string starting with the operand (ordinal).</summary>
    StartsWith,

    /// <summary><c>ends_with</c> (version 2): the value is a string ending with the operand (ordinal).</summary>
    EndsWith,

    /// <summary><c>glob</c> (version 2): the value is a string matching the pattern (<c>*</c>, <c>?</c>).</summary>
    Glob,

    /// <summary><c>path_under</c> (version 2): the value is an absolute path at or inside the operand directory.</summary>
    PathUnder,
}

/// <summary>The kind of a <see cref="CompositePredicate"/> (version 2).</summary>
public enum CompositeKind
{
    /// <summary><c>all</c>: every operand holds.</summary>
    All,

    /// <summary><c>any</c>: at least one operand holds.</summary>
    Any,

    /// <summary><c>not</c>: the single operand does not hold.</summary>
    Not,
}

/// <summary>How a limit's window moves.</summary>
public enum LimitAlgorithm
{
    /// <summary>Fixed windows aligned to the UTC calendar (named windows) or the Unix epoch (durations).</summary>
    Fixed,

    /// <summary>A sliding window: no burst of twice the maximum across a window boundary.</summary>
    Sliding,
}
