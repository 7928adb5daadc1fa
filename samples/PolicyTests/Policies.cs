using PolicyEngine;

namespace PolicyTests;

/// <summary>The policies under test, loaded from the files the MCP servers use.</summary>
internal static class Policies
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "policies");

    public static PolicyDocument PythonExecution { get; } = PolicyDocument.Load(Path.Combine(Directory, "python-exec.policy.json"));

    public static PolicyDocument Payments { get; } = PolicyDocument.Load(Path.Combine(Directory, "payments.policy.json"));
}
