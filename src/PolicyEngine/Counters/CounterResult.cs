namespace PolicyEngine;

/// <summary>The answer of a counter store to a reservation or a peek.</summary>
public readonly struct CounterResult
{
    private readonly CounterReservation? _reservation;
    private readonly CounterCharge _charge;
    private readonly bool _inline;

    private CounterResult(bool admitted, int limitingIndex, TimeSpan retryAfter, CounterReservation? reservation, CounterCharge charge = default, bool inline = false)
    {
        Admitted = admitted;
        LimitingIndex = limitingIndex;
        RetryAfter = retryAfter;
        _reservation = reservation;
        _charge = charge;
        _inline = inline;
    }

    /// <summary><see langword="true"/> when every counter had room (and, for a reservation, was charged).</summary>
    public bool Admitted { get; }

    /// <summary>When not admitted: the index of the first request that had no room; otherwise -1.</summary>
    public int LimitingIndex { get; }

    /// <summary>When not admitted: how long until that request could be admitted (never optimistic).</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// For an admitted reservation: what was charged, to roll back if the call fails. A result made by
    /// <see cref="Success(CounterCharge)"/> builds a new record on each read.
    /// </summary>
    public CounterReservation? Reservation => _reservation ?? (_inline ? new CounterReservation([_charge]) : null);

    /// <summary>An admitted result.</summary>
    /// <param name="reservation">What was charged (<see langword="null"/> for a peek).</param>
    /// <returns>The result.</returns>
    public static CounterResult Success(CounterReservation? reservation) => new(true, -1, TimeSpan.Zero, reservation);

    /// <summary>
    /// An admitted reservation of one counter, kept in the result itself: the evaluator stores it in the decision's
    /// recycled handle, so admitting the call allocates nothing.
    /// </summary>
    /// <param name="charge">What was charged.</param>
    /// <returns>The result.</returns>
    public static CounterResult Success(CounterCharge charge) => new(true, -1, TimeSpan.Zero, null, charge, inline: true);

    /// <summary>A refused result.</summary>
    /// <param name="limitingIndex">The index of the first request without room.</param>
    /// <param name="retryAfter">How long until it could be admitted.</param>
    /// <returns>The result.</returns>
    public static CounterResult Limited(int limitingIndex, TimeSpan retryAfter) =>
        new(false, limitingIndex, retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter, null);

    /// <summary>Whether the result holds a reservation, in either form, without allocating.</summary>
    internal bool HoldsReservation => _reservation is not null || _inline;

    /// <summary>Moves what was reserved into <paramref name="ticket"/> without allocating.</summary>
    internal void MoveTo(Evaluation.ReservationTicket ticket)
    {
        ticket.Reservation = _reservation;
        ticket.Charge = _charge;
    }
}
