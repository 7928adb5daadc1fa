namespace PolicyEngine.Tests.Counters;

/// <summary>
/// A shared store for leasing tests: an <see cref="InMemoryCounterStore"/> that counts the calls it receives and,
/// when <see cref="AsyncDelay"/> is set, takes that long on its asynchronous paths (a network round trip).
/// </summary>
internal sealed class CountingCounterStore : ICounterStore
{
    private readonly InMemoryCounterStore _store = new();
    private int _reserves;
    private int _peeks;
    private int _releases;

    public TimeSpan AsyncDelay { get; set; }

    public int Reserves => Volatile.Read(ref _reserves);

    public int Peeks => Volatile.Read(ref _peeks);

    public int Releases => Volatile.Read(ref _releases);

    /// <summary>How much of <paramref name="request"/>'s limit is charged at <paramref name="now"/> (what a peek leaves no room for).</summary>
    public long Used(CounterRequest request, DateTimeOffset now)
    {
        // The largest amount that still fits, found by halving; the charged total is max minus it.
        long low = 0;
        var high = request.Max;
        while (low < high)
        {
            var middle = low + ((high - low + 1) / 2);
            if (_store.Peek([request with { Amount = middle }], now).Admitted)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return request.Max - low;
    }

    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        Interlocked.Increment(ref _reserves);
        return _store.Reserve(requests, now);
    }

    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        Interlocked.Increment(ref _peeks);
        return _store.Peek(requests, now);
    }

    public void Release(CounterReservation reservation, DateTimeOffset now)
    {
        Interlocked.Increment(ref _releases);
        _store.Release(reservation, now);
    }

    public async ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await Delay(cancellationToken);
        return Reserve(requests, now);
    }

    public async ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await Delay(cancellationToken);
        return Peek(requests, now);
    }

    public async ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await Delay(cancellationToken);
        Release(reservation, now);
    }

    private async ValueTask Delay(CancellationToken cancellationToken)
    {
        if (AsyncDelay > TimeSpan.Zero)
        {
            await Task.Delay(AsyncDelay, cancellationToken);
        }
    }
}
