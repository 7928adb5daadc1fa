namespace PolicyEngine;

/// <summary>
/// What an admitted call charged to its counters. <see cref="PolicyEvaluator.Complete(Decision, bool)"/> commits it
/// (the call succeeded) or returns it (the call failed) exactly once; later calls do nothing.
/// </summary>
public sealed class CounterReservation
{
    private int _completed;
    private IReadOnlyList<CounterCharge>? _charges;

    // A reservation of one counter (the common case) keeps its charge in place: one object per admitted call.
    private readonly CounterCharge _single;

    /// <summary>Creates a reservation record. Counter stores create these; hosts only pass them back.</summary>
    /// <param name="charges">What was charged, in request order.</param>
    public CounterReservation(IReadOnlyList<CounterCharge> charges)
    {
        ArgumentNullException.ThrowIfNull(charges);
        _charges = charges;
    }

    /// <summary>A reservation of one counter.</summary>
    internal CounterReservation(CounterCharge charge) => _single = charge;

    /// <summary>The counters charged.</summary>
    public IReadOnlyList<CounterCharge> Charges => _charges ??= [_single];

    /// <summary><see langword="true"/> once the reservation has been committed or rolled back.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Marks the reservation completed; <see langword="true"/> only for the first caller.</summary>
    /// <summary>
    /// The evaluator whose decision carries this reservation: only it may complete it, so a decision handed to another
    /// evaluator (whose store may hold the same keys) can never refund quota that evaluator did not charge.
    /// </summary>
    internal object? Issuer { get; set; }

    internal bool TryComplete() => Interlocked.Exchange(ref _completed, 1) == 0;
}
