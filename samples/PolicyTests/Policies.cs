using PolicyEngine;

namespace PolicyTests;

/// <summary>The policies under test, loaded from the files the MCP servers use.</summary>
internal static class Policies
{
    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "policies");

    public static PolicyDocument PythonExecution { get; } = PolicyDocument.Load(Path.Combine(Directory, "python-exec.policy.json"));

    public static PolicyDocument Payments { get; } = PolicyDocument.Load(Path.Combine(Directory, "payments.policy.json"));

    /// <summary>The hand-tuned starter policy for a self-hosted Pwno server (samples/Pwno/policy.json).</summary>
    public static PolicyDocument Pwno { get; } = PolicyDocument.Load(Path.Combine(Directory, "pwno", "policy.json"));

    /// <summary>The seed's recommendation for Pwno, version 1, byte for byte (samples/Pwno/policy.v1.json).</summary>
    public static PolicyDocument PwnoSeed { get; } = PolicyDocument.Load(Path.Combine(Directory, "pwno", "policy.v1.json"));
}
