using System.Collections.Concurrent;
using System.Diagnostics;

namespace PolicyEngine;

/// <summary>
/// An <see cref="ICounterStore"/> for hosts that make many calls per counter: it takes quota from a shared store
/// (Redis, SQLite) in batches — a lease of up to <see cref="LeasingCounterStoreOptions.LeaseSize"/> units, charged to
/// the shared store up front — and admits calls from the lease in process, without a round trip, until it runs out.
/// Unused units go back to the shared store when the lease's window (or sliding-window bucket) ends, when the lease
/// reaches <see cref="LeasingCounterStoreOptions.MaxLeaseLifetime"/>, and on dispose. Opt-in: wrap the shared store
/// and give the wrapper to the evaluator.
/// </summary>
/// <remarks>
/// <para><b>Bound.</b> Every admitted unit was charged to the shared store before it was admitted, so all hosts together
/// never admit more than <c>max</c> in a window: over-admission is impossible. The price is under-admission: a host
/// can be refused while other hosts hold leased units they have not used yet — at most
/// <c>min(LeaseSize, MaxLeaseShare × max)</c> per other host and counter, for at most the lease lifetime.</para>
/// <para><b>Windows.</b> A lease admits only calls whose instant falls in the bucket its charge went to and that are
/// checked against the same buckets (<see cref="CounterSlot.BucketStart"/> and <see cref="CounterSlot.ReadFrom"/>
/// equal): a fixed-window lease only in its window, a sliding-window lease only in its bucket (a tenth of the window).
/// A call admitted at instant t from a lease charged at t' in t's own bucket is then counted exactly as the shared
/// store would count it, so the sliding limit holds in every interval of one window length, whatever the arrival
/// order. A fixed-window lease outgrown by a newer window still serves late callers stamped in its own window; other
/// out-of-order callers go to the shared store directly (after this host returns its unused units such a call counts),
/// and so do a sliding window whose length is not a whole number of buckets (never the case for windows written in a
/// policy) and a counter named twice in one call.</para>
/// <para><b>Several counters.</b> A call that charges several counters is admitted locally only when every counter's
/// lease has room, checked and charged under all their locks at once (all or nothing); a counter short of room gets its
/// lease refilled first, and if the shared store cannot give even what the call needs, the call is refused naming that
/// counter.</para>
/// <para><b>Lease size.</b> The shared store can only say yes or no to an amount, so a refill asks for the preferred
/// size and halves it on refusal down to what the call needs: it gets at least half of what is left. After a halving
/// the next refill starts from the size that worked; after a refusal of the minimum, refills of that counter ask for
/// the minimum only (one round trip, as without leasing) until one succeeds, then double. One refill per counter is in
/// flight at a time; asynchronous callers that find the lease empty meanwhile wait for it (a blocking caller waits only
/// for a synchronous one, otherwise charges what it needs itself). A lease below a quarter of its cap is topped up in
/// the background, never past the cap.</para>
/// <para><b>Rollback.</b> <see cref="CounterStore.Release"/> of a reservation this store admitted from a lease returns the units to
/// that lease while it is live; otherwise (or for a reservation of the shared store) to the shared store.</para>
/// <para><b>Refusals</b> carry the shared store's retry-after for what the call still needed, which is never
/// optimistic for the call itself.</para>
/// <para><b>Clock.</b> Leases follow the <c>now</c> the evaluator passes. The timer that returns leases of quiet
/// counters runs on the <see cref="TimeProvider"/> given here and measures from when each lease was charged, so the
/// two clocks may differ by any offset (an evaluator on virtual time); only their rates must agree.</para>
/// </remarks>
// The leasing wrapper, part 1 of 7: the public surface and the hot path (one counter whose lease has room).
public sealed partial class LeasingCounterStore : CounterStore, IDisposable, IAsyncDisposable
{
    private readonly ICounterStore _inner;
    private readonly long _leaseSize;
    private readonly double _maxShare;
    private readonly long _lifetimeMs;
    private readonly TimeProvider _time;

    // Counter key -> its lease and sizing state. Entries without a lease are swept once idle.
    private readonly ConcurrentDictionary<string, Counter> _counters = new();
    private int _disposed;

    /// <summary>Creates a leasing wrapper over a shared store (which the caller keeps and disposes).</summary>
    /// <param name="inner">The shared store the leases are charged to.</param>
    /// <param name="options">Lease size, share and lifetime; validated and copied, so later changes have no effect.</param>
    /// <param name="timeProvider">
    /// The clock of the timer that returns leases of quiet counters (default <see cref="TimeProvider.System"/>); tests
    /// pass a fake one to run the timer.
    /// </param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public LeasingCounterStore(ICounterStore inner, LeasingCounterStoreOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        options ??= new LeasingCounterStoreOptions();
        Validate(options).ThrowIfAny();
        _inner = inner;
        _leaseSize = options.LeaseSize;
        _maxShare = options.MaxLeaseShare;
        _lifetimeMs = (long)options.MaxLeaseLifetime.TotalMilliseconds;
        _time = timeProvider ?? TimeProvider.System;
        _timer = _time.CreateTimer(static state => ((LeasingCounterStore)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The shared store the leases are charged to.</summary>
    public ICounterStore Inner => _inner;

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(LeasingCounterStoreOptions options)
    {
        var problems = new OptionsProblems(nameof(LeasingCounterStoreOptions));
        if (options.LeaseSize < 1)
        {
            problems.Add(nameof(options.LeaseSize), $"must be at least 1 (it is {options.LeaseSize})");
        }

        if (!(options.MaxLeaseShare > 0 && options.MaxLeaseShare <= 1))
        {
            problems.Add(nameof(options.MaxLeaseShare), $"must be above 0 and at most 1 (it is {options.MaxLeaseShare})");
        }

        if (options.MaxLeaseLifetime < TimeSpan.FromMilliseconds(1) || options.MaxLeaseLifetime > LeasingCounterStoreOptions.LongestLeaseLifetime)
        {
            problems.Add(nameof(options.MaxLeaseLifetime), $"must be between 1 millisecond and 1 day (it is {options.MaxLeaseLifetime})");
        }

        return problems;
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (requests.Count == 1 && TryTakeLeased(requests[0], now.ToUnixTimeMilliseconds()) is { } reservation)
        {
            return CounterResult.Success(reservation);
        }

        return Completed(ReserveSlow(requests, now, synchronous: true, CancellationToken.None));
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    protected override ValueTask<CounterResult> ReserveCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (requests.Count == 1 && TryTakeLeased(requests[0], now.ToUnixTimeMilliseconds()) is { } reservation)
        {
            return ValueTask.FromResult(CounterResult.Success(reservation));
        }

        return ReserveSlow(requests, now, synchronous: false, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>Counts what this host's leases hold as room; asks the shared store only about what they lack.</remarks>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return Completed(PeekLeased(requests, now, synchronous: true, CancellationToken.None));
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
    protected override ValueTask<CounterResult> PeekCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return PeekLeased(requests, now, synchronous: false, cancellationToken);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Units admitted from a lease that is still live go back to it (no round trip); everything else goes to the
    /// shared store. Works after dispose too (then everything goes to the shared store).
    /// </remarks>
    protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now)
    {
        var pending = ReleaseLeased(reservation, now, synchronous: true, CancellationToken.None);
        Debug.Assert(pending.IsCompleted, "the synchronous path never awaits");
        pending.GetAwaiter().GetResult();
    }

    /// <inheritdoc/>
    protected override ValueTask ReleaseCoreAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken) =>
        ReleaseLeased(reservation, now, synchronous: false, cancellationToken);

    /// <summary>
    /// Returns every lease's unused units to the shared store and stops the return timer. The shared store is not
    /// disposed (the caller owns it). Later reservations throw <see cref="ObjectDisposedException"/>; rollbacks still
    /// reach the shared store. A failure to return units is swallowed: they stay charged until their window ends
    /// (the safe side).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        DisposeTimer();
        if (RetireAll(out var returnAtMs) is { } charges)
        {
            var pending = Return(charges, DateTimeOffset.FromUnixTimeMilliseconds(returnAtMs), synchronous: true, CancellationToken.None);
            Debug.Assert(pending.IsCompleted, "the synchronous path never awaits");
            pending.GetAwaiter().GetResult();
        }
    }

    /// <summary>Asynchronous <see cref="Dispose"/>.</summary>
    /// <returns>A task that completes when the unused units are returned.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        DisposeTimer();
        if (RetireAll(out var returnAtMs) is { } charges)
        {
            await Return(charges, DateTimeOffset.FromUnixTimeMilliseconds(returnAtMs), synchronous: false, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the timer; <see cref="Arm"/> checks the disposed flag under the same lock, so it never re-arms it.</summary>
    private void DisposeTimer()
    {
        lock (_timerLock)
        {
            _timer.Dispose();
        }
    }

    /// <summary>
    /// Units this store holds unused for <paramref name="key"/>, in its current lease and its previous window's lease,
    /// counting only leases whose bucket start satisfies <paramref name="bucket"/> when given (for tests and diagnostics).
    /// </summary>
    internal long Leased(string key, Func<long, bool>? bucket = null)
    {
        if (!_counters.TryGetValue(key, out var counter))
        {
            return 0;
        }

        lock (counter)
        {
            long held = 0;
            foreach (var lease in (ReadOnlySpan<Lease?>)[counter.Lease, counter.Previous])
            {
                if (lease is not null && (bucket is null || bucket(lease.BucketStart)))
                {
                    held += lease.Remaining;
                }
            }

            return held;
        }
    }

    /// <summary>
    /// The hot path: one counter whose live lease has room. Takes the units under the counter's lock; anything else
    /// (no lease, another bucket, an expired lease, too little room) returns <see langword="null"/> for the slow path.
    /// </summary>
    private CounterReservation? TryTakeLeased(in CounterRequest request, long nowMs)
    {
        if (request.Key is null || request.Amount <= 0 || !_counters.TryGetValue(request.Key, out var counter))
        {
            return null;
        }

        var slot = CounterSlot.For(request, nowMs);
        Lease lease;
        TaskCompletionSource? prefetch = null;
        lock (counter)
        {
            if (counter.Lease is not { } live || !live.Serves(slot) || nowMs >= live.LifetimeEnd || live.Remaining < request.Amount)
            {
                return null;
            }

            live.Remaining -= request.Amount;
            lease = live;
            if (live.Remaining < live.LowWater && counter.Refill is null && counter.Prefetch is null)
            {
                counter.Prefetch = prefetch = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (prefetch is not null)
        {
            _ = PrefetchAsync(counter, request, DateTimeOffset.FromUnixTimeMilliseconds(nowMs), prefetch);
        }

        return new CounterReservation(new LeasedCharges(slot.ToCharge(), lease));
    }

    /// <summary>The result of a store path run synchronously (it never awaits, so it has completed).</summary>
    private static T Completed<T>(ValueTask<T> pending)
    {
        Debug.Assert(pending.IsCompleted, "the synchronous path never awaits");
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }

    /// <summary>The most one refill may take for a limit of <paramref name="max"/>, and never less than the call needs.</summary>
    private long Cap(long max, long need)
    {
        // A share of 1, or one that rounds to 2^63, is the whole limit (the cast would overflow).
        var scaled = Math.Floor(max * _maxShare);
        long share = _maxShare >= 1 || scaled >= long.MaxValue ? max : (long)scaled;
        return Math.Max(need, Math.Min(_leaseSize, share));
    }
}
