using System.Text;
using PolicyEngine.Documents;

namespace PolicyEngine;

/// <summary>
/// A validated policy document (version <c>"1"</c>, PolicyLayer-compatible, or <c>"2"</c>, the superset):
/// immutable, and equal to another document when both print the same canonical JSON.
/// </summary>
/// <remarks>
/// Parsing never throws anything but <see cref="PolicyValidationException"/> for bad input, whatever the input:
/// documents larger than 16 MiB, nested deeper than 128 levels, with duplicate keys, comments, trailing commas,
/// invalid UTF-8 or unknown keys are rejected with every problem listed.
/// <para>
/// The document model (<see cref="ToolPolicy"/>, <see cref="PolicyPredicate"/>, <see cref="LimitRule"/>,
/// <see cref="ApprovalRule"/>) is read-only by design: it has no public constructors, so every document in a process
/// passed validation. To build a policy in code, write its JSON (or start from <c>policyengine init</c>) and parse it;
/// each property reads one key of the document, with defaults applied.
/// </para>
/// </remarks>
public sealed partial class PolicyDocument : IEquatable<PolicyDocument>
{
    /// <summary>The newest document version this library reads and writes.</summary>
    public const string LatestVersion = "2";

    private string? _json;

    internal PolicyDocument(
        string version,
        DefaultAction defaultAction,
        string? schema,
        IReadOnlyList<string>? hide,
        ToolPolicy? allTools,
        IReadOnlyList<ToolPolicy> tools,
        string? description = null)
    {
        Description = description;
        Version = version;
        Default = defaultAction;
        Schema = schema;
        Hide = hide;
        AllTools = allTools;
        Tools = tools;
    }

    /// <summary>
    /// The document's <c>description</c> (version 2): what the policy is for, in the author's words. It never affects a
    /// decision (it is part of the content, so editing it changes <see cref="Policy.Version"/>).
    /// </summary>
    public string? Description { get; }

    /// <summary>The versions this library reads: <c>"1"</c> and <c>"2"</c>.</summary>
    public static IReadOnlyList<string> SupportedVersions { get; } = ["1", "2"];

    /// <summary>The document's <c>version</c>.</summary>
    public string Version { get; }

    /// <summary>What happens to tools no entry under <c>tools</c> matches.</summary>
    public DefaultAction Default { get; }

    /// <summary>The <c>$schema</c> the document names for editors, if any.</summary>
    public string? Schema { get; }

    /// <summary>Tool names (or, in version 2, globs) hidden from <c>tools/list</c> and denied at call time; <see langword="null"/> when absent.</summary>
    public IReadOnlyList<string>? Hide { get; }

    /// <summary>Rules applied to every call after the tool's own, if any.</summary>
    public ToolPolicy? AllTools { get; }

    /// <summary>The entries under <c>tools</c>, in document order.</summary>
    public IReadOnlyList<ToolPolicy> Tools { get; }

    /// <summary>Deepest accepted JSON nesting (objects and arrays); the parser enforces it, the writer allows for it.</summary>
    internal const int MaxNestingDepth = 128;

    /// <summary>
    /// Returns this document rewritten to <see cref="LatestVersion"/> with the same meaning. Version 2 is a superset
    /// of version 1, so the rewrite only changes <c>version</c>; a document already at the latest version is returned as is.
    /// </summary>
    /// <returns>The migrated document.</returns>
    public PolicyDocument MigrateToLatest() =>
        Version == LatestVersion ? this : new PolicyDocument(LatestVersion, Default, Schema, Hide, AllTools, Tools, Description);

    /// <summary>Writes the document as indented JSON in a canonical key order. <c>Parse(ToJson())</c> equals this document.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => _json ??= PolicyWriter.Write(this);

    /// <inheritdoc/>
    public bool Equals(PolicyDocument? other) =>
        other is not null && (ReferenceEquals(this, other) || string.Equals(ToJson(), other.ToJson(), StringComparison.Ordinal));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PolicyDocument);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToJson());

    /// <summary>Summarises the document for logs: version, default and the number of tool entries.</summary>
    /// <returns>A one-line summary.</returns>
    public override string ToString() =>
        new StringBuilder("PolicyDocument v").Append(Version).Append(", default ").Append(Default == DefaultAction.Allow ? "allow" : "deny")
            .Append(", ").Append(Tools.Count).Append(Tools.Count == 1 ? " tool entry" : " tool entries").ToString();
}
