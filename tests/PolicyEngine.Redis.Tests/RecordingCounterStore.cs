namespace PolicyEngine.Redis.Tests;

/// <summary>Admits everything and records every request: the counter keys the evaluator builds, for the tests to inspect.</summary>
internal sealed class RecordingCounterStore : ICounterStore
{
    public List<CounterRequest> Requests { get; } = [];

    /// <summary>The requests of the last reservation.</summary>
    public CounterRequest[] Last { get; private set; } = [];

    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        Last = [.. requests];
        Requests.AddRange(requests);
        return CounterResult.Success(new CounterReservation([]));
    }

    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => CounterResult.Success(null);

    public void Release(CounterReservation reservation, DateTimeOffset now)
    {
    }

    public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) => new(Reserve(requests, now));

    public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) => new(Peek(requests, now));

    public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
