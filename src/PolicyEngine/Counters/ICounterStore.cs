namespace PolicyEngine;

/// <summary>
/// Where limit counters live. A reservation charges several counters atomically: either every counter has room and
/// all are charged, or none is. Implementations must be exact under any concurrency (a limit of N admits N, never
/// N + 1). <see cref="CounterSlot.For"/> does the window arithmetic, so a store only implements storage.
/// </summary>
public interface ICounterStore
{
    /// <summary>Charges every counter if all have room; otherwise charges none.</summary>
    /// <param name="requests">The counters to charge.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <returns>Admitted with the reservation, or refused with the limiting request and retry-after.</returns>
    CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now);

    /// <summary>Whether <see cref="Reserve"/> would admit the requests now, without charging anything.</summary>
    /// <param name="requests">The counters to check.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <returns>Admitted (without a reservation), or refused with the limiting request and retry-after.</returns>
    CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now);

    /// <summary>Returns what a reservation charged, to windows still current; a window already over is left alone.</summary>
    /// <param name="reservation">The reservation to roll back (the evaluator calls this at most once per reservation).</param>
    /// <param name="now">The evaluator's current time.</param>
    void Release(CounterReservation reservation, DateTimeOffset now);

    /// <summary>Asynchronous <see cref="Reserve"/>.</summary>
    /// <param name="requests">The counters to charge.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation (the evaluator's store timeout).</param>
    /// <returns>The result.</returns>
    ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Asynchronous <see cref="Peek"/>.</summary>
    /// <param name="requests">The counters to check.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The result.</returns>
    ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Asynchronous <see cref="Release"/>.</summary>
    /// <param name="reservation">The reservation to roll back.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the rollback is stored.</returns>
    ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default);
}
