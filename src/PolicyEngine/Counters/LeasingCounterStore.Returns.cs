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
    /// A peek looks at the leases as a reservation would (putting away the same outgrown leases, so the two agree),
    /// counts what each serving lease holds as room, and asks the shared store (one call) only whether it has what the
    /// leases lack. Calls that leases cannot serve are peeked at the shared store as they are.
    /// </summary>
    private async ValueTask<CounterResult> PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var plan = MakePlan(requests, nowMs);
        List<CounterRequest>? lacking = null;
        List<int>? lackingIndex = null;
        for (var attempt = 0; plan is not null; attempt++)
        {
            List<CounterCharge>? returns = null;
            var step = LookForPeek(plan, nowMs, ref returns, ref lacking, ref lackingIndex);
            if (returns is not null)
            {
                await Return(returns, now, synchronous, cancellationToken).ConfigureAwait(false);
            }

            if (step is null)
            {
                break;
            }

            if (step == Step.PassThrough || attempt >= MaxAttempts)
            {
                plan = null;
                break;
            }

            plan.Refresh(this, nowMs);
        }

        if (plan is null)
        {
            // As a reservation would, first give back this host's unused units that the call counts.
            if (RetireCounted(requests, nowMs) is { } counted)
            {
                await Return(counted, now, synchronous, cancellationToken).ConfigureAwait(false);
            }

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
    /// With every counter of the call locked: resolves the leases as <see cref="TakeLocal"/> does and lists, for each
    /// counter short of room, what it lacks. Returns <see langword="null"/> when done, else <see cref="Step.Retry"/> or
    /// <see cref="Step.PassThrough"/>.
    /// </summary>
    private Step? LookForPeek(Plan plan, long nowMs, ref List<CounterCharge>? returns, ref List<CounterRequest>? lacking, ref List<int>? lackingIndex)
    {
        var locked = 0;
        try
        {
            for (; locked < plan.Count; locked++)
            {
                Monitor.Enter(plan.Counters[plan.Order[locked]]);
            }

            if (ResolveAll(plan, nowMs, ref returns) is { } other)
            {
                return other;
            }

            for (var i = 0; i < plan.Count; i++)
            {
                var request = plan.Requests[i];
                var serving = plan.Serving[i];
                var room = serving?.Remaining ?? 0;
                if (request.Amount > room)
                {
                    if (serving is not null && ReferenceEquals(serving, plan.Counters[i].Previous))
                    {
                        return Step.PassThrough;
                    }

                    (lacking ??= []).Add(request with { Amount = request.Amount - room });
                    (lackingIndex ??= []).Add(i);
                }
            }

            return null;
        }
        finally
        {
            for (var i = locked - 1; i >= 0; i--)
            {
                Monitor.Exit(plan.Counters[plan.Order[i]]);
            }
        }
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

        if (ReferenceEquals(counter.Previous, lease))
        {
            counter.Previous = null;
        }

        if (lease.Remaining > 0)
        {
            (returns ??= []).Add(lease.Charge(lease.Remaining));
        }
    }

    /// <summary>
    /// With the counter locked: a fixed-window lease whose window is over for the newest caller becomes the counter's
    /// <see cref="Counter.Previous"/> (dropping an older one). Its units are not returned: they count for no other window.
    /// </summary>
    private static void KeepAsPrevious(Counter counter, Lease lease)
    {
        DropPrevious(counter);
        if (ReferenceEquals(counter.Lease, lease))
        {
            counter.Lease = null;
        }

        counter.Previous = lease;
    }

    /// <summary>With the counter locked: forgets the previous window's lease (rollbacks of it then go to the shared store).</summary>
    private static void DropPrevious(Counter counter)
    {
        if (counter.Previous is { } previous)
        {
            previous.Retired = true;
            counter.Previous = null;
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

                DropPrevious(counter);
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
                        }
                        else if (lease.IsFixed && nowMs >= lease.BucketEnd)
                        {
                            KeepAsPrevious(counter, lease);
                        }
                        else
                        {
                            Retire(counter, lease, ref returns);
                        }
                    }

                    if (counter.Previous is { } previous)
                    {
                        // Late callers of a window that is over are served for a window (at most a lifetime) longer.
                        var keepUntil = CounterSlot.SaturatingAdd(previous.BucketEnd, Math.Min(previous.WindowLength, _lifetimeMs));
                        if (nowMs >= keepUntil)
                        {
                            DropPrevious(counter);
                        }
                        else
                        {
                            next = Math.Min(next, keepUntil);
                        }
                    }

                    if (counter.Lease is not null || counter.Previous is not null)
                    {
                        continue;
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
