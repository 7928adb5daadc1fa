namespace PolicyEngine.Documents;

/// <summary>What a limit's counter is keyed by.</summary>
internal enum LimitScopeKind
{
    /// <summary><c>grant</c>: the caller's identity id.</summary>
    Grant,

    /// <summary><c>global</c>: one counter shared by every caller and tool.</summary>
    Global,

    /// <summary><c>tool</c>: the tool name.</summary>
    Tool,

    /// <summary><c>args.&lt;path&gt;</c>: the value of one argument, shared by every identity.</summary>
    Argument,
}
