namespace PolicyEngine.Cli;

/// <summary>One tool as a server lists it: what <c>init</c> needs from <c>tools/list</c>.</summary>
/// <param name="Name">The tool's name.</param>
/// <param name="Description">Its description, if any.</param>
/// <param name="Annotations">Whether the server gave an <c>annotations</c> object at all.</param>
/// <param name="ReadOnlyHint"><c>readOnlyHint</c>, if given.</param>
/// <param name="DestructiveHint"><c>destructiveHint</c>, if given.</param>
/// <param name="OpenWorldHint"><c>openWorldHint</c>, if given.</param>
internal sealed record ServerTool(string Name, string? Description, bool Annotations, bool? ReadOnlyHint, bool? DestructiveHint, bool? OpenWorldHint);
