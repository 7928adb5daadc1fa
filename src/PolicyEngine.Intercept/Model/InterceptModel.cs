using System.Text.Json;

namespace PolicyEngine.Intercept.Model;

/// <summary>An Intercept policy file as read from YAML, after Intercept's defaults and <c>rate_limit</c> desugaring.</summary>
internal sealed class InterceptFile
{
    public string Version { get; set; } = string.Empty;

    public string Default { get; set; } = "allow";

    public List<string> Hide { get; } = [];

    /// <summary>The tool entries in document order, the <c>"*"</c> entry included.</summary>
    public List<InterceptTool> Tools { get; } = [];

    public InterceptTool? Find(string name) => Tools.Find(t => t.Name == name);
}

/// <summary><c>tools.&lt;name&gt;</c>.</summary>
internal sealed class InterceptTool(string name, string pointer)
{
    public string Name { get; } = name;

    /// <summary>The JSON-Pointer-like location of the entry in the YAML (<c>/tools/&lt;name&gt;</c>).</summary>
    public string Pointer { get; } = pointer;

    public bool IsWildcard => Name == "*";

    /// <summary>The scope Intercept keys this entry's counters by: the tool name, or <c>_global</c> for <c>"*"</c>.</summary>
    public string Scope => IsWildcard ? "_global" : Name;

    public List<InterceptRule> Rules { get; } = [];
}

/// <summary>One rule of a tool entry.</summary>
internal sealed class InterceptRule(string pointer)
{
    public string Pointer { get; } = pointer;

    public string Name { get; set; } = string.Empty;

    /// <summary><c>evaluate</c> (the default) or <c>deny</c>.</summary>
    public string Action { get; set; } = "evaluate";

    public string OnDeny { get; set; } = string.Empty;

    public List<InterceptCondition> Conditions { get; } = [];

    public InterceptState? State { get; set; }

    /// <summary>True when the rule was written with the <c>rate_limit</c> shorthand.</summary>
    public bool FromRateLimit { get; set; }

    /// <summary>False when the rule has problems that make further checks meaningless.</summary>
    public bool Usable { get; set; } = true;

    /// <summary>The rule's text for the agent when it denies: its <c>on_deny</c>, or Intercept's generated message.</summary>
    public string DenyMessage => OnDeny.Length > 0 ? OnDeny : "Denied by rule " + Go.GoQuote.Quote(Name);

    /// <summary>The text when its counter is full: its <c>on_deny</c>, or Intercept's reservation message.</summary>
    public string LimitMessage => OnDeny.Length > 0 ? OnDeny : $"Rate limit exceeded for {Name}";
}

/// <summary><c>{ path, op, value }</c>.</summary>
internal sealed class InterceptCondition(string pointer, string path, string op, JsonElement? value)
{
    public string Pointer { get; } = pointer;

    public string Path { get; } = path;

    public string Op { get; } = op;

    /// <summary>The operand as JSON; <see langword="null"/> when the condition has no <c>value</c>.</summary>
    public JsonElement? Value { get; } = value;

    public bool IsState => Path.StartsWith("state.", StringComparison.Ordinal);
}

/// <summary>A rule's <c>state</c> block: the counter it keeps.</summary>
internal sealed class InterceptState(string pointer)
{
    public string Pointer { get; } = pointer;

    public string Counter { get; set; } = string.Empty;

    public string Window { get; set; } = string.Empty;

    /// <summary>The fixed increment (Intercept treats 0 or absent as 1).</summary>
    public long Increment { get; set; } = 1;

    public string IncrementFrom { get; set; } = string.Empty;
}
