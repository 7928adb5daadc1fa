namespace PolicyEngine;

// The leasing wrapper, part 3 of 4: peeks, rollbacks, and giving unused units back (when a lease is outgrown, by the
// timer at its deadline, and on dispose).
public sealed partial class LeasingCounterStore
{
    /// <summary>The timer never runs more often than this (it sweeps every counter).</summary>
    private const long MinSweepIntervalMs = 20;

    private readonly ITimer _timer;
    private readonly Lock _timerLock = new();

    // The deadline (on the calls' clock) the timer is armed for; long.MaxValue when it is not armed.
    private long _armedForMs = long.MaxValue;

    /// <summary>
    /// A peek counts what each lease holds as room, and asks the shared store (one call) only whether it has what the
    /// leases lack. Calls that leases cannot serve are peeked at the shared store as they are.
    /// </summary>
    private async ValueTask<CounterResult> PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        var count = requests.Count;
        var nowMs = now.ToUnixTimeMilliseconds();
        List<CounterRequest>? lacking = null;
        List<int>? lackingIndex = null;
        var passThrough = count == 0;
        for (var i = 0; i < count && !passThrough; i++)
        {
            var request = requests[i];
            if (request.Key is null || request.Amount < 0)
            {
                passThrough = true;
                break;
            }

            for (var j = 0; j < i; j++)
            {
                passThrough |= string.Equals(requests[j].Key, request.Key, StringComparison.Ordinal);
            }

            var slot = CounterSlot.For(request, nowMs);
            if (passThrough || !Leasable(slot))
            {
                passThrough = true;
                break;
            }

            long room = 0;
            if (request.Amount > 0 && _counters.TryGetValue(request.Key, out var counter))
            {
                lock (counter)
                {
                    if (counter.Lease is { } lease)
                    {
                        passThrough = lease.SameLimit(slot) && slot.BucketStart < lease.BucketStart;
                        room = lease.Serves(slot) && nowMs < lease.LifetimeEnd ? lease.Remaining : 0;
                    }
                }
            }

            if (request.Amount > room)
            {
                (lacking ??= []).Add(request with { Amount = request.Amount - room });
                (lackingIndex ??= []).Add(i);
            }
        }

        if (passThrough)
        {
            return synchronous ? _inner.Peek(requests, now) : await _inner.PeekAsync(requests, now, cancellationToken).ConfigureAwait(false);
        }

        if (lacking is null)
        {
            return CounterResult.Success(null);
        }

        var result = synchronous ? _inner.Peek(lacking, now) : await _inner.PeekAsync(lacking, now, cancellationToken).ConfigureAwait(false);
        return result.Admitted ? CounterResult.Success(null) : CounterResult.Limited(lackingIndex![Math.Max(0, result.LimitingIndex)], result.RetryAfter);
    }

    /// <summary>
    /// A rollback: units admitted from a lease that is still live go back to it; everything else (retired leases, the
    /// shared store's own reservations) goes to the shared store, which leaves windows that are over alone.
    /// </summary>
    private async ValueTask ReleaseCore(CounterReservation reservation, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        if (reservation.Charges is not LeasedCharges leased)
        {
            await ReleaseInner(reservation, now, synchronous, cancellationToken).ConfigureAwait(false);
            return;
        }

        List<CounterCharge>? rest = null;
        for (var i = 0; i < leased.Count; i++)
        {
            var charge = leased[i];
            if (charge.Amount <= 0)
            {
                continue;
            }

            if (leased.LeaseOf(i) is { } lease)
            {
                lock (lease.Owner)
                {
                    if (!lease.Retired)
                    {
                        lease.Remaining = CounterSlot.SaturatingAdd(lease.Remaining, charge.Amount);
                        continue;
                    }
                }
            }

            (rest ??= []).Add(charge);
        }

        if (rest is not null)
        {
            await ReleaseInner(new CounterReservation(rest), now, synchronous, cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask ReleaseInner(CounterReservation reservation, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        if (!synchronous)
        {
            return _inner.ReleaseAsync(reservation, now, cancellationToken);
        }

        _inner.Release(reservation, now);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// With the counter locked: takes <paramref name="lease"/> out of it; its remaining units (if any) are added to
    /// <paramref name="returns"/> for the caller to give back once the lock is released.
    /// </summary>
    private static void Retire(Counter counter, Lease lease, ref List<CounterCharge>? returns)
    {
        lease.Retired = true;
        if (ReferenceEquals(counter.Lease, lease))
        {
            counter.Lease = null;
        }

        if (lease.Remaining > 0)
        {
            (returns ??= []).Add(lease.Charge(lease.Remaining));
        }
    }

    /// <summary>Retires every lease (on dispose).</summary>
    private List<CounterCharge>? RetireAll()
    {
        List<CounterCharge>? returns = null;
        foreach (var (_, counter) in _counters)
        {
            lock (counter)
            {
                if (counter.Lease is { } lease)
                {
                    Retire(counter, lease, ref returns);
                }
            }
        }

        return returns;
    }

    /// <summary>
    /// Gives unused units back to the shared store in one call (charges whose bucket no longer counts are skipped: the
    /// shared store would ignore them). A failure is swallowed: the units then stay charged until their window ends,
    /// which can only refuse calls, never admit too many.
    /// </summary>
    private async ValueTask Return(List<CounterCharge> charges, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        charges.RemoveAll(charge => charge.Amount <= 0 || nowMs >= charge.WindowEnd);
        if (charges.Count == 0)
        {
            return;
        }

        await ReturnReservation(new CounterReservation(charges), now, synchronous, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask ReturnReservation(CounterReservation reservation, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        try
        {
            await ReleaseInner(reservation, now, synchronous, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Units that cannot be returned stay charged: the safe side.
        }
    }

    /// <summary>
    /// Arms the timer for <paramref name="deadlineMs"/> (on the calls' clock) unless it is armed earlier already; the
    /// delay is kept between <see cref="MinSweepIntervalMs"/> and the lease lifetime, so a timer clock that differs
    /// from the calls' clock still sweeps at least once per lifetime.
    /// </summary>
    private void Arm(long deadlineMs)
    {
        if (deadlineMs >= Volatile.Read(ref _armedForMs))
        {
            return;
        }

        lock (_timerLock)
        {
            if (deadlineMs >= _armedForMs || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            _armedForMs = deadlineMs;
            var due = Math.Max(MinSweepIntervalMs, Math.Min(deadlineMs - _time.GetUtcNow().ToUnixTimeMilliseconds(), _lifetimeMs));
            _timer.Change(TimeSpan.FromMilliseconds(due), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnTimer()
    {
        lock (_timerLock)
        {
            _armedForMs = long.MaxValue;
        }

        _ = SweepAsync();
    }

    /// <summary>
    /// The timer's work: retires every lease past its deadline (its bucket ended or its lifetime did) and returns the
    /// unused units, forgets idle counters, and arms the timer for the next deadline.
    /// </summary>
    private async Task SweepAsync()
    {
        try
        {
            var now = _time.GetUtcNow();
            var nowMs = now.ToUnixTimeMilliseconds();
            List<CounterCharge>? returns = null;
            var next = long.MaxValue;
            foreach (var pair in _counters)
            {
                var counter = pair.Value;
                lock (counter)
                {
                    if (counter.Lease is { } lease)
                    {
                        if (nowMs < lease.DeadlineMs)
                        {
                            next = Math.Min(next, lease.DeadlineMs);
                            continue;
                        }

                        Retire(counter, lease, ref returns);
                    }

                    if (counter.Refill is null && nowMs >= counter.KeepUntilMs)
                    {
                        counter.Dead = true;
                        _counters.TryRemove(pair);
                    }
                    else
                    {
                        next = Math.Min(next, Math.Max(counter.KeepUntilMs, nowMs + MinSweepIntervalMs));
                    }
                }
            }

            if (next != long.MaxValue)
            {
                Arm(next);
            }

            if (returns is not null)
            {
                await Return(returns, now, synchronous: false, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A sweep that fails leaves leases to be retired by the next call or sweep: never unsafe.
        }
    }
}
