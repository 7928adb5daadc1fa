namespace PolicyEngine;

/// <summary>The answer of a counter store to a reservation or a peek.</summary>
public readonly struct CounterResult
{
    private CounterResult(bool admitted, int limitingIndex, TimeSpan retryAfter, CounterReservation? reservation)
    {
        Admitted = admitted;
        LimitingIndex = limitingIndex;
        RetryAfter = retryAfter;
        Reservation = reservation;
    }

    /// <summary><see langword="true"/> when every counter had room (and, for a reservation, was charged).</summary>
    public bool Admitted { get; }

    /// <summary>When not admitted: the index of the first request that had no room; otherwise -1.</summary>
    public int LimitingIndex { get; }

    /// <summary>When not admitted: how long until that request could be admitted (never optimistic).</summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>For an admitted reservation: what was charged, to roll back if the call fails.</summary>
    public CounterReservation? Reservation { get; }

    /// <summary>An admitted result.</summary>
    /// <param name="reservation">What was charged (<see langword="null"/> for a peek).</param>
    /// <returns>The result.</returns>
    public static CounterResult Success(CounterReservation? reservation) => new(true, -1, TimeSpan.Zero, reservation);

    /// <summary>A refused result.</summary>
    /// <param name="limitingIndex">The index of the first request without room.</param>
    /// <param name="retryAfter">How long until it could be admitted.</param>
    /// <returns>The result.</returns>
    public static CounterResult Limited(int limitingIndex, TimeSpan retryAfter) =>
        new(false, limitingIndex, retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter, null);
}
