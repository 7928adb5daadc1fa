namespace PolicyEngine;

// The leasing wrapper, part 6 of 7: rollbacks, and giving unused units back (when a lease is outgrown, by the
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
    /// A rollback: units admitted from a lease that is still live go back to it; everything else (retired leases, the
    /// shared store's own reservations) goes to the shared store, which leaves windows that are over alone.
    /// </summary>
    private async ValueTask ReleaseLeased(CounterReservation reservation, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
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
        if (counter.Previous is { } older && older.BucketStart == lease.BucketStart && older.SameLimit(lease))
        {
            // Two leases of one window (not expected: Resolve serves that window from the previous one): keep every unit.
            lease.Remaining = CounterSlot.SaturatingAdd(lease.Remaining, older.Remaining);
            older.Remaining = 0;
        }

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

    /// <summary>
    /// With the counter locked: retires <paramref name="lease"/> on the timer's initiative, at <paramref name="callNowMs"/>
    /// (its estimate of the calls' clock); its units are returned unless their bucket no longer counts by then.
    /// <paramref name="returnAtMs"/> keeps the earliest such instant, at which one call returns all of them.
    /// </summary>
    private static void RetireAt(Counter counter, Lease lease, long callNowMs, ref List<CounterCharge>? returns, ref long returnAtMs)
    {
        List<CounterCharge>? retired = null;
        Retire(counter, lease, ref retired);
        if (retired is not null && callNowMs < lease.ExpiresAt)
        {
            (returns ??= []).AddRange(retired);
            returnAtMs = Math.Min(returnAtMs, callNowMs);
        }
    }

    /// <summary>Retires every lease (on dispose); <paramref name="returnAtMs"/> is the instant to return the units at.</summary>
    private List<CounterCharge>? RetireAll(out long returnAtMs)
    {
        var timerNowMs = TimerNowMs();
        returnAtMs = long.MaxValue;
        List<CounterCharge>? returns = null;
        foreach (var (_, counter) in _counters)
        {
            lock (counter)
            {
                if (counter.Lease is { } lease)
                {
                    RetireAt(counter, lease, lease.OnCallClock(timerNowMs), ref returns, ref returnAtMs);
                }

                DropPrevious(counter);
            }
        }

        return returns;
    }

    /// <summary>The timer's clock (the store's <see cref="TimeProvider"/>) in Unix milliseconds.</summary>
    private long TimerNowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Gives unused units back to the shared store in one call. Charges whose bucket no longer counts at
    /// <paramref name="now"/> are skipped (the round trip would change nothing). The call is made at the earliest bucket
    /// start of the rest, not at <paramref name="now"/>: these units were never admitted, so taking them back from
    /// their own bucket is right at any time, and a store that leaves windows that are over alone (as rollbacks of
    /// admitted calls must) still takes them. A failure is swallowed: the units then stay charged until their window
    /// ends, which can only refuse calls, never admit too many.
    /// </summary>
    private async ValueTask Return(List<CounterCharge> charges, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        charges.RemoveAll(charge => charge.Amount <= 0 || nowMs >= charge.WindowEnd);
        if (charges.Count == 0)
        {
            return;
        }

        var at = long.MaxValue;
        foreach (var charge in charges)
        {
            at = Math.Min(at, charge.WindowStart);
        }

        await ReturnReservation(new CounterReservation(charges), DateTimeOffset.FromUnixTimeMilliseconds(at), synchronous, cancellationToken).ConfigureAwait(false);
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
    /// Arms the timer for <paramref name="timerDeadlineMs"/> (on its own clock) unless it is armed earlier already; the
    /// delay is kept between <see cref="MinSweepIntervalMs"/> and the lease lifetime.
    /// </summary>
    private void Arm(long timerDeadlineMs)
    {
        if (timerDeadlineMs >= Volatile.Read(ref _armedForMs))
        {
            return;
        }

        lock (_timerLock)
        {
            if (timerDeadlineMs >= _armedForMs || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            _armedForMs = timerDeadlineMs;
            var due = Math.Max(MinSweepIntervalMs, Math.Min(timerDeadlineMs - TimerNowMs(), _lifetimeMs));
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
    /// unused units, forgets previous windows' leases and idle counters, and arms the timer for the next deadline. It
    /// works on its own clock, measuring from when each lease was charged, so an evaluator on another clock (virtual
    /// time) does not make it retire leases early or late; returns are made at the lease's estimated call-clock instant.
    /// </summary>
    private async Task SweepAsync()
    {
        try
        {
            var timerNowMs = TimerNowMs();
            List<CounterCharge>? returns = null;
            var returnAtMs = long.MaxValue;
            var next = long.MaxValue;
            foreach (var pair in _counters)
            {
                var counter = pair.Value;
                lock (counter)
                {
                    if (counter.Lease is { } lease)
                    {
                        var callNowMs = lease.OnCallClock(timerNowMs);
                        if (timerNowMs < lease.DeadlineTimerMs)
                        {
                            next = Math.Min(next, lease.DeadlineTimerMs);
                        }
                        else if (lease.IsFixed && callNowMs >= lease.BucketEnd)
                        {
                            KeepAsPrevious(counter, lease);
                        }
                        else
                        {
                            RetireAt(counter, lease, callNowMs, ref returns, ref returnAtMs);
                        }
                    }

                    if (counter.Previous is { } previous)
                    {
                        // Late callers of a window that is over are served for a window (at most a lifetime) longer.
                        var keepUntil = previous.OnTimerClock(CounterSlot.SaturatingAdd(previous.BucketEnd, Math.Min(previous.WindowLength, _lifetimeMs)));
                        if (timerNowMs >= keepUntil)
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

                    if (counter.Refill is null && counter.Prefetch is null && timerNowMs >= counter.KeepUntilTimerMs)
                    {
                        counter.Dead = true;
                        _counters.TryRemove(pair);
                    }
                    else
                    {
                        next = Math.Min(next, Math.Max(counter.KeepUntilTimerMs, timerNowMs + MinSweepIntervalMs));
                    }
                }
            }

            if (next != long.MaxValue)
            {
                Arm(next);
            }

            if (returns is not null)
            {
                await Return(returns, DateTimeOffset.FromUnixTimeMilliseconds(returnAtMs), synchronous: false, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A sweep that fails leaves leases to be retired by the next call or sweep: never unsafe.
        }
    }
}
