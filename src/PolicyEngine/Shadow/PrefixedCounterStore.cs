namespace PolicyEngine;

/// <summary>
/// An <see cref="ICounterStore"/> that puts every key of another store under a prefix, so two evaluators can share
/// one store (a Redis server, a SQLite file) without their counters ever meeting. A shadow candidate's counters live
/// under <see cref="ShadowPolicyEvaluator.CounterPrefix"/>.
/// </summary>
/// <remarks>
/// The evaluator's keys begin with a digit (the counter id's length), so any prefix that does not end in a digit
/// keeps the two key sets apart. Reservations carry the prefixed keys, so a rollback goes to the same counters.
/// </remarks>
public sealed class PrefixedCounterStore : ICounterStore
{
    private readonly ICounterStore _inner;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The store that holds the counters.</param>
    /// <param name="prefix">What every key starts with; not empty, and not ending in a digit.</param>
    public PrefixedCounterStore(ICounterStore inner, string prefix)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (char.IsAsciiDigit(prefix[^1]))
        {
            throw new ArgumentException("the prefix must not end in a digit: evaluator keys begin with one, so the two could meet", nameof(prefix));
        }

        _inner = inner;
        Prefix = prefix;
    }

    /// <summary>What every key starts with.</summary>
    public string Prefix { get; }

    /// <inheritdoc/>
    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => _inner.Reserve(Prefixed(requests), now);

    /// <inheritdoc/>
    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => _inner.Peek(Prefixed(requests), now);

    /// <inheritdoc/>
    public void Release(CounterReservation reservation, DateTimeOffset now) => _inner.Release(reservation, now);

    /// <inheritdoc/>
    public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        _inner.ReserveAsync(Prefixed(requests), now, cancellationToken);

    /// <inheritdoc/>
    public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        _inner.PeekAsync(Prefixed(requests), now, cancellationToken);

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        _inner.ReleaseAsync(reservation, now, cancellationToken);

    private CounterRequest[] Prefixed(IReadOnlyList<CounterRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var prefixed = new CounterRequest[requests.Count];
        for (var i = 0; i < prefixed.Length; i++)
        {
            var request = requests[i];
            prefixed[i] = request with { Key = string.Concat(Prefix, request.Key) };
        }

        return prefixed;
    }
}
