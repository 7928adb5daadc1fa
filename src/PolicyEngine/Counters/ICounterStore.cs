namespace PolicyEngine;

/// <summary>
/// Where limit counters live. A reservation charges several counters atomically: either every counter has room and
/// all are charged, or none is. Implementations must be exact under any concurrency (a limit of N admits N, never
/// N + 1). <see cref="CounterSlot.For"/> does the window arithmetic, so a store only implements storage. Derive from
/// <see cref="CounterStore"/>, which checks the arguments once for every store.
/// </summary>
/// <remarks>
/// <para>The contract the evaluator relies on, and every store's tests check (one shared contract test class):</para>
/// <list type="bullet">
/// <item><description><b>Borrowed requests.</b> The request list belongs to the caller: the evaluator reuses one list
/// per thread, so a store must not keep it (or enumerate it) after the call returns, or after the task of an
/// asynchronous call completes.</description></item>
/// <item><description><b>Keys.</b> A counter is identified by <see cref="CounterRequest.Key"/> alone, compared
/// ordinally; keys may hold any UTF-16 (identities and argument values are part of them). Two different keys are two
/// counters.</description></item>
/// <item><description><b>Time.</b> <c>now</c> is the evaluator's clock, read before the call; callers may arrive out of
/// order, and a store must never admit more than max in any window because of that (see <see cref="CounterSlot"/>).</description></item>
/// <item><description><b>Rollback.</b> The evaluator releases a reservation at most once, and only one this store
/// returned; a release never touches a window that is already over.</description></item>
/// <item><description><b>Failure.</b> A store that cannot answer throws (or faults its task); the evaluator then
/// decides by its <see cref="StoreFailureMode"/> (closed, a denial, unless the host opted out). A store never answers
/// "admitted" for a reservation it did not record.</description></item>
/// </list>
/// </remarks>
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
