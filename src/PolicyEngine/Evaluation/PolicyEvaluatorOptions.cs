namespace PolicyEngine;

/// <summary>Options of a <see cref="PolicyEvaluator"/>; copied when the evaluator is built, so later changes have no effect.</summary>
public sealed class PolicyEvaluatorOptions
{
    /// <summary>What a decision becomes when the counter store fails or times out (default: fail closed).</summary>
    public StoreFailureMode StoreFailureMode { get; set; } = StoreFailureMode.FailClosed;

    /// <summary>
    /// How long <see cref="PolicyEvaluator.EvaluateAsync(PolicyIdentity, string, System.Text.Json.JsonElement, CancellationToken)"/>
    /// waits for the counter and approval stores before applying <see cref="StoreFailureMode"/> (default 2 seconds).
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
