namespace PolicyEngine;

/// <summary>One counter charged by a reservation: the key, the amount, and the window (or sliding bucket) charged.</summary>
/// <param name="Key">The counter's storage key.</param>
/// <param name="Amount">The amount added.</param>
/// <param name="WindowStart">The start of the window, or of the sliding-window bucket, that was charged (Unix milliseconds).</param>
/// <param name="WindowEnd">When the charged window stops counting (Unix milliseconds); a rollback after it changes nothing.</param>
public readonly record struct CounterCharge(string Key, long Amount, long WindowStart, long WindowEnd);
