namespace PolicyEngine.Benchmarks;

internal static class Calls
{
    /// <summary>Calls per benchmark invocation; every scenario benchmark sets <c>OperationsPerInvoke</c> to this.</summary>
    public const int PerInvoke = 4096;

    /// <summary>Fixed seed: every run evaluates the same calls.</summary>
    public const int Seed = 20260101;

    /// <summary>A fresh string instance, as a tool name deserialised from a request would be (no reference-equality shortcut).</summary>
    public static string Fresh(string text) => new(text.AsSpan());
}
