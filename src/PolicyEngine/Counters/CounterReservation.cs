namespace PolicyEngine;

/// <summary>
/// What an admitted reservation charged to its counters: an immutable record a store returns and takes back in
/// <see cref="ICounterStore.Release"/>. The evaluator keeps it behind the decision's handle and hands it back at most
/// once, when <see cref="PolicyEvaluator.Complete(Decision, bool)"/> rolls the call back.
/// </summary>
public sealed class CounterReservation
{
    /// <summary>Creates a reservation record. Counter stores create these; hosts never need to.</summary>
    /// <param name="charges">What was charged, in request order.</param>
    public CounterReservation(IReadOnlyList<CounterCharge> charges)
    {
        ArgumentNullException.ThrowIfNull(charges);
        Charges = charges;
    }

    /// <summary>The counters charged.</summary>
    public IReadOnlyList<CounterCharge> Charges { get; }
}
