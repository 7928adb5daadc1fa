namespace PolicyEngine;

/// <summary>
/// Every problem of one options object, collected by the component that consumes it (a store, the evaluator, the
/// audit trail, the MCP guard) when it is built, and thrown together: a host with three wrong settings hears of all
/// three at once, each named <c>TypeName.Property</c>. Options classes themselves stay plain property bags (setters
/// never throw), so binding from configuration never stops half-way.
/// </summary>
/// <remarks>
/// One definition, compiled into the packages that cannot see the core's internals (PolicyEngine.Redis,
/// PolicyEngine.Sqlite, PolicyEngine.ModelContextProtocol link this file); the core, Audit and Testing use the core's.
/// </remarks>
internal sealed class OptionsProblems
{
    private readonly string _typeName;
    private readonly List<string> _problems = [];

    /// <summary>Starts an empty list for an options object of type <paramref name="typeName"/>.</summary>
    /// <param name="typeName">The options class's name, such as <c>RedisCounterStoreOptions</c>; every problem starts with it.</param>
    public OptionsProblems(string typeName) => _typeName = typeName;

    /// <summary>The problems so far, each starting with <c>TypeName.Property</c>.</summary>
    public IReadOnlyList<string> Problems => _problems;

    /// <summary>Records that <paramref name="property"/> is wrong.</summary>
    /// <param name="property">The property's name (<c>nameof</c>), or a path such as <c>IdentityRoles[2]</c>.</param>
    /// <param name="problem">What is wrong and, where it helps, what to set; it follows the property's name, as in <c>must be positive (it is 00:00:00)</c>.</param>
    public void Add(string property, string problem) => _problems.Add($"{_typeName}.{property} {problem}");

    /// <summary>The one message listing every problem: <c>options are not valid: A.B must …; A.C must …</c>.</summary>
    /// <returns>The message.</returns>
    public string Message() => "options are not valid: " + string.Join("; ", _problems);

    /// <summary>The exception every component throws for wrong options: the <see cref="Message"/>, parameter <c>options</c>.</summary>
    /// <returns>The exception, not thrown.</returns>
    public ArgumentException ToException() => new(Message(), "options");

    /// <summary>Throws the problems together when there is any.</summary>
    /// <exception cref="ArgumentException">Some option is wrong; the message lists every problem and the parameter is <c>options</c>.</exception>
    public void ThrowIfAny()
    {
        if (_problems.Count > 0)
        {
            throw ToException();
        }
    }
}
