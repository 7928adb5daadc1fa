namespace PolicyEngine;

/// <summary>
/// A base for <see cref="ICounterStore"/> implementations. The public methods check their arguments once, the same way
/// for every store (see <see cref="ICounterStore"/> for the contract), and then call the protected <c>…Core</c>
/// methods, which implement storage only. The asynchronous cores run the synchronous ones unless a store with real
/// I/O overrides them.
/// </summary>
/// <remarks>
/// Arguments the base class refuses: a <see langword="null"/> request list or reservation; a request with a
/// <see langword="null"/> key, a negative amount, a negative max or a window that is not positive. A cancelled token
/// gives a cancelled task before the store is touched.
/// </remarks>
public abstract class CounterStore : ICounterStore
{
    /// <inheritdoc/>
    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        Validate(requests);
        return ReserveCore(requests, now);
    }

    /// <inheritdoc/>
    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        Validate(requests);
        return PeekCore(requests, now);
    }

    /// <inheritdoc/>
    public void Release(CounterReservation reservation, DateTimeOffset now)
    {
        Validate(reservation);
        ReleaseCore(reservation, now);
    }

    /// <inheritdoc/>
    public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Validate(requests);
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<CounterResult>(cancellationToken)
            : ReserveCoreAsync(requests, now, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Validate(requests);
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<CounterResult>(cancellationToken)
            : PeekCoreAsync(requests, now, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Validate(reservation);
        return cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled(cancellationToken)
            : ReleaseCoreAsync(reservation, now, cancellationToken);
    }

    /// <summary>Charges every counter if all have room; otherwise charges none. The arguments are checked.</summary>
    /// <param name="requests">The counters to charge (borrowed: do not keep the list past the call).</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <returns>Admitted with the reservation, or refused with the limiting request and retry-after.</returns>
    protected abstract CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now);

    /// <summary>Whether <see cref="ReserveCore"/> would admit the requests now, without charging anything. The arguments are checked.</summary>
    /// <param name="requests">The counters to check (borrowed).</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <returns>Admitted (without a reservation), or refused with the limiting request and retry-after.</returns>
    protected abstract CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now);

    /// <summary>Returns what a reservation charged, to windows still current. The arguments are checked.</summary>
    /// <param name="reservation">The reservation to roll back.</param>
    /// <param name="now">The evaluator's current time.</param>
    protected abstract void ReleaseCore(CounterReservation reservation, DateTimeOffset now);

    /// <summary>Asynchronous <see cref="ReserveCore"/>; by default runs it synchronously.</summary>
    /// <param name="requests">The counters to charge (borrowed until the task completes).</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation (the evaluator's store timeout).</param>
    /// <returns>The result.</returns>
    protected virtual ValueTask<CounterResult> ReserveCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReserveCore(requests, now));

    /// <summary>Asynchronous <see cref="PeekCore"/>; by default runs it synchronously.</summary>
    /// <param name="requests">The counters to check (borrowed until the task completes).</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The result.</returns>
    protected virtual ValueTask<CounterResult> PeekCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken) =>
        ValueTask.FromResult(PeekCore(requests, now));

    /// <summary>Asynchronous <see cref="ReleaseCore"/>; by default runs it synchronously.</summary>
    /// <param name="reservation">The reservation to roll back.</param>
    /// <param name="now">The evaluator's current time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task that completes when the quota is returned.</returns>
    protected virtual ValueTask ReleaseCoreAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ReleaseCore(reservation, now);
        return ValueTask.CompletedTask;
    }

    private static void Validate(IReadOnlyList<CounterRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (request.Key is null)
            {
                throw new ArgumentException($"requests[{i}] has no key.", nameof(requests));
            }

            if (request.Amount < 0 || request.Max < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(requests), $"requests[{i}] has a negative {(request.Amount < 0 ? "amount" : "max")}.");
            }

            if (request.Window <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(requests), $"requests[{i}] has a window of {request.Window}; it must be positive.");
            }
        }
    }

    private static void Validate(CounterReservation reservation)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        var charges = reservation.Charges;
        for (var i = 0; i < charges.Count; i++)
        {
            if (charges[i].Key is null)
            {
                throw new ArgumentException($"charges[{i}] has no key.", nameof(reservation));
            }
        }
    }
}
