using System.Collections.Concurrent;

namespace PolicyEngine.Evaluation;

/// <summary>
/// Recycled <see cref="CancellationTokenSource"/>s for the evaluator's store timeout, so an asynchronous decision does
/// not allocate a source and a timer each time. A source goes back to the pool only when
/// <see cref="CancellationTokenSource.TryReset"/> succeeds, which it does only if the source was never cancelled and
/// its timer never fired; any other source is disposed. So a recycled source can never carry a cancellation from an
/// earlier call into a later one.
/// </summary>
internal static class StoreTimeouts
{
    private const int MaxPooled = 256;

    private static readonly ConcurrentQueue<CancellationTokenSource> Pool = new();

    /// <summary>A source that cancels after <paramref name="timeout"/>, or as soon as <paramref name="caller"/> does.</summary>
    public static Lease Start(TimeSpan timeout, CancellationToken caller)
    {
        if (!Pool.TryDequeue(out var source))
        {
            source = new CancellationTokenSource();
        }

        source.CancelAfter(timeout);

        // Registered after the timer: a caller token that is already cancelled cancels the source right here.
        var registration = caller.CanBeCanceled
            ? caller.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), source)
            : default;
        return new Lease(source, registration);
    }

    /// <summary>One use of a pooled source; <see cref="Dispose"/> ends it.</summary>
    public readonly struct Lease(CancellationTokenSource source, CancellationTokenRegistration registration) : IDisposable
    {
        /// <summary>The token the stores get.</summary>
        public CancellationToken Token => source.Token;

        /// <summary>Unlinks the caller's token (waiting for its callback if it is running), then recycles or disposes the source.</summary>
        public void Dispose()
        {
            registration.Dispose();
            if (Pool.Count < MaxPooled && source.TryReset())
            {
                Pool.Enqueue(source);
                return;
            }

            source.Dispose();
        }
    }
}
