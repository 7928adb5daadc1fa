using System.Text.Json;
using Json.Schema;

namespace PolicyEngine;

/// <summary>The rules of one entry under <c>tools</c>, or of <c>all_tools</c>.</summary>
public sealed class ToolPolicy
{
    internal ToolPolicy(
        string? name,
        ToolAction? action,
        string? onDeny,
        IReadOnlyList<PolicyPredicate>? require,
        IReadOnlyList<PolicyPredicate>? denyIf,
        JsonElement? argsSchema,
        JsonSchema? compiledArgsSchema,
        ApprovalRule? approval,
        IReadOnlyList<LimitRule>? limits,
        string? description = null)
    {
        Description = description;
        Name = name;
        DeclaredAction = action;
        OnDeny = onDeny;
        Require = require;
        DenyIf = denyIf;
        ArgsSchema = argsSchema;
        CompiledArgsSchema = compiledArgsSchema;
        Approval = approval;
        Limits = limits;
    }

    /// <summary>The key under <c>tools</c> (an exact name or, in version 2, a glob); <see langword="null"/> for <c>all_tools</c>.</summary>
    public string? Name { get; }

    /// <summary>The entry's action (<see cref="ToolAction.Allow"/> unless the document says <c>"deny"</c>).</summary>
    public ToolAction Action => DeclaredAction ?? ToolAction.Allow;

    /// <summary>The action as written, or <see langword="null"/> when the document leaves it out.</summary>
    public ToolAction? DeclaredAction { get; }

    /// <summary>The reason given when <c>"action": "deny"</c> denies a call.</summary>
    public string? OnDeny { get; }

    /// <summary>Predicates that must all hold, or <see langword="null"/> when the key is absent.</summary>
    public IReadOnlyList<PolicyPredicate>? Require { get; }

    /// <summary>Predicates any one of which denies, or <see langword="null"/> when the key is absent.</summary>
    public IReadOnlyList<PolicyPredicate>? DenyIf { get; }

    /// <summary>The JSON Schema the arguments must satisfy (version 2), if any.</summary>
    public JsonElement? ArgsSchema { get; }

    /// <summary>The schema built while validating, reused by the compiler.</summary>
    internal JsonSchema? CompiledArgsSchema { get; }

    /// <summary>The approval rule (version 2), if any.</summary>
    public ApprovalRule? Approval { get; }

    /// <summary>The limits, or <see langword="null"/> when the key is absent.</summary>
    public IReadOnlyList<LimitRule>? Limits { get; }

    /// <summary>
    /// The entry's <c>description</c> (version 2): why the tool is treated this way, kept with the rule for reviewers
    /// and tools such as <c>policyengine explain</c>. It never affects a decision.
    /// </summary>
    public string? Description { get; }
}
