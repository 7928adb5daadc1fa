namespace PolicyEngine;

/// <summary>
/// One counter to charge: which counter (<see cref="Key"/>, already encoding the counter id and scope value), how
/// much, and the limit and window it is checked against.
/// </summary>
/// <param name="Key">
/// The counter's storage key. Built by the evaluator from the counter id, window and scope value with length
/// prefixes, so no identity or argument value can collide with another key.
/// </param>
/// <param name="Amount">What this call adds (at least 0).</param>
/// <param name="Max">The most the counter may hold in one window.</param>
/// <param name="Window">The window's length.</param>
/// <param name="Algorithm">Fixed or sliding window.</param>
public readonly record struct CounterRequest(string Key, long Amount, long Max, TimeSpan Window, LimitAlgorithm Algorithm);
