namespace PolicyEngine.Tests.Diagnostics;

/// <summary>
/// Tests that install metrics or tracing listeners, and tests that count allocations, run one at a time: a listener
/// installed by one test would otherwise make another test's evaluations allocate.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry listeners and allocation counting";
}
