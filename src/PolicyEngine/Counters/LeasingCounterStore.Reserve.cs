namespace PolicyEngine;

// The leasing wrapper, part 2 of 7: a reservation that the hot path could not admit (no lease, an empty one, several
// counters): looking at the leases under the counters' locks, and what goes to the shared store directly.
public sealed partial class LeasingCounterStore
{
    /// <summary>
    /// How many times one reservation looks at its leases (others may drain a refill before it gets its share) before
    /// it goes to the shared store directly, which is always exact.
    /// </summary>
    private const int MaxAttempts = 8;

    /// <summary>How many other callers' refills one reservation waits for before it goes to the shared store directly.</summary>
    private const int MaxWaits = 64;

    /// <summary>What one look at the leases (or one refill) found.</summary>
    private enum Step
    {
        /// <summary>Every counter had room; the amounts are taken.</summary>
        Admitted,

        /// <summary>A counter lacks room (or, after a refill, the shared store refused it).</summary>
        Short,

        /// <summary>This call cannot use leases (an out-of-order caller, another limit's lease): ask the shared store.</summary>
        PassThrough,

        /// <summary>Look again (a refill was merged, or a counter was swept meanwhile).</summary>
        Retry,

        /// <summary>Look again after waiting for another caller's refill (progress by others: not an attempt of one's own).</summary>
        Waited,
    }

    /// <summary>
    /// Reserves through the leases: takes from them when every counter has room, otherwise refills the first counter
    /// that lacks room and looks again. Written once for both paths: <paramref name="synchronous"/> calls the shared
    /// store's synchronous methods and waits by blocking, so nothing is awaited and the task is complete on return.
    /// </summary>
    private async ValueTask<CounterResult> ReserveSlow(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        if (MakePlan(requests, nowMs) is not { } plan)
        {
            return await PassReserve(requests, now, synchronous, cancellationToken).ConfigureAwait(false);
        }

        CounterResult? refused = null;
        var waits = 0;
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > MaxAttempts || waits > MaxWaits || Volatile.Read(ref _disposed) != 0)
            {
                // Others keep draining what refills bring in: let the shared store decide, leaving their leases alone.
                return await PassReserve(requests, now, synchronous, cancellationToken, clean: false).ConfigureAwait(false);
            }

            List<CounterCharge>? returns = null;
            var step = TakeLocal(plan, nowMs, ref returns, out var index, out var need);
            if (returns is not null)
            {
                // Retired leases go back before anything is refilled: for a sliding window their units still count.
                await Return(returns, now, synchronous, cancellationToken).ConfigureAwait(false);
            }

            switch (step)
            {
                case Step.Admitted:
                    return CounterResult.Success(plan.Reservation());
                case Step.PassThrough:
                    return await PassReserve(requests, now, synchronous, cancellationToken).ConfigureAwait(false);
                case Step.Retry:
                    plan.Refresh(this);
                    continue;
            }

            if (refused is { } refusal)
            {
                // The shared store refused what this counter needed, and a second look found no refill by anyone else.
                return refusal;
            }

            var (outcome, retryAfter) = await Refill(plan, index, need, now, nowMs, synchronous, cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case Step.Admitted:
                    return CounterResult.Success(plan.Reservation());
                case Step.PassThrough:
                    return await PassReserve(requests, now, synchronous, cancellationToken).ConfigureAwait(false);
                case Step.Short:
                    refused = CounterResult.Limited(index, retryAfter);
                    break;
                case Step.Waited:
                    // Another caller's refill landed (or failed, which makes refills concurrent): not this call's attempt.
                    attempt--;
                    waits++;
                    break;
            }
        }
    }

    /// <summary>
    /// The shared store decides the whole call (no lease is used or charged). With <paramref name="clean"/>, this host's
    /// leases of the same limits holding units the call counts are retired and returned first, so that the shared store
    /// does not refuse the call for units this host holds unused.
    /// </summary>
    private async ValueTask<CounterResult> PassReserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken, bool clean = true)
    {
        if (clean && RetireCounted(requests, now.ToUnixTimeMilliseconds()) is { } returns)
        {
            await Return(returns, now, synchronous, cancellationToken).ConfigureAwait(false);
        }

        return synchronous ? _inner.Reserve(requests, now) : await _inner.ReserveAsync(requests, now, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Retires this host's leases (current or previous window) of the same limits as <paramref name="requests"/> whose
    /// bucket those requests count (<see cref="CounterSlot.Counts"/>), for a call the shared store decides directly.
    /// </summary>
    private List<CounterCharge>? RetireCounted(IReadOnlyList<CounterRequest> requests, long nowMs)
    {
        List<CounterCharge>? returns = null;
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            if (request.Key is null || !_counters.TryGetValue(request.Key, out var counter))
            {
                continue;
            }

            var slot = CounterSlot.For(request, nowMs);
            lock (counter)
            {
                if (counter.Lease is { } lease && lease.SameLimit(slot) && slot.Counts(lease.BucketStart))
                {
                    Retire(counter, lease, ref returns);
                }

                if (counter.Previous is { } previous && previous.SameLimit(slot) && slot.Counts(previous.BucketStart))
                {
                    // Its window is this (late) call's own, so the shared store still takes the units back.
                    Retire(counter, previous, ref returns);
                }
            }
        }

        return returns;
    }

    /// <summary>
    /// The counters, slots and lock order of a call that leases can serve; <see langword="null"/> when it must go to
    /// the shared store: no requests, a null key or negative amount (the shared store reports those), a counter named
    /// twice, or a sliding window whose length is not a whole number of buckets.
    /// </summary>
    private Plan? MakePlan(IReadOnlyList<CounterRequest> requests, long nowMs)
    {
        var count = requests.Count;
        if (count == 0)
        {
            return null;
        }

        var plan = new Plan(count);
        for (var i = 0; i < count; i++)
        {
            var request = requests[i];
            if (request.Key is null || request.Amount < 0)
            {
                return null;
            }

            for (var j = 0; j < i; j++)
            {
                if (string.Equals(plan.Requests[j].Key, request.Key, StringComparison.Ordinal))
                {
                    return null;
                }
            }

            var slot = CounterSlot.For(request, nowMs);
            if (!Leasable(slot))
            {
                return null;
            }

            plan.Requests[i] = request;
            plan.Slots[i] = slot;
        }

        plan.Refresh(this);
        plan.SortLockOrder();
        return plan;
    }

    /// <summary>
    /// Whether a lease can serve calls of this slot exactly: fixed windows always; sliding windows when the window is
    /// a whole number of buckets, so that every instant of one bucket reads from the same bucket (policy windows are
    /// whole seconds, so always).
    /// </summary>
    private static bool Leasable(in CounterSlot slot) => slot.BucketLength == slot.WindowLength || slot.WindowLength % slot.BucketLength == 0;

    /// <summary>The counter of <paramref name="key"/>, created when missing (and then the idle sweep is armed).</summary>
    private Counter CounterOf(string key)
    {
        if (_counters.TryGetValue(key, out var counter))
        {
            return counter;
        }

        counter = _counters.GetOrAdd(key, static _ => new Counter());
        Arm(CounterSlot.SaturatingAdd(TimerNowMs(), _lifetimeMs));
        return counter;
    }

    /// <summary>
    /// One look at the leases, with every counter of the call locked (in key order, so two calls never deadlock):
    /// resolves each counter's lease (<see cref="Resolve"/>), and takes every amount when every lease has room.
    /// Otherwise names the first counter short of room and what it still needs (its amount less what its lease holds).
    /// A late caller that its window's previous lease cannot cover goes to the shared store.
    /// </summary>
    private Step TakeLocal(Plan plan, long nowMs, ref List<CounterCharge>? returns, out int shortIndex, out long need)
    {
        shortIndex = -1;
        need = 0;
        var count = plan.Count;
        var locked = 0;
        try
        {
            for (; locked < count; locked++)
            {
                Monitor.Enter(plan.Counters[plan.Order[locked]]);
            }

            if (ResolveAll(plan, nowMs, ref returns) is { } other)
            {
                return other;
            }

            for (var i = 0; i < count; i++)
            {
                var amount = plan.Requests[i].Amount;
                var serving = plan.Serving[i];
                var room = serving?.Remaining ?? 0;
                if (amount > room)
                {
                    if (serving is not null && ReferenceEquals(serving, plan.Counters[i].Previous))
                    {
                        // A late caller of a window that is over: no refill for it.
                        return Step.PassThrough;
                    }

                    if (shortIndex < 0)
                    {
                        shortIndex = i;
                        need = amount - room;
                    }
                }
            }

            if (shortIndex >= 0)
            {
                return Step.Short;
            }

            for (var i = 0; i < count; i++)
            {
                var amount = plan.Requests[i].Amount;
                if (amount > 0)
                {
                    var lease = plan.Serving[i]!;
                    lease.Remaining -= amount;
                    plan.Taken[i] = lease;
                }
            }

            return Step.Admitted;
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
    /// With every counter of the call locked: <see cref="Resolve"/>s each into <see cref="Plan.Serving"/>. Returns
    /// <see langword="null"/> to go on, <see cref="Step.Retry"/> when a counter was swept meanwhile, or
    /// <see cref="Step.PassThrough"/> when some counter cannot be served by a lease.
    /// </summary>
    private Step? ResolveAll(Plan plan, long nowMs, ref List<CounterCharge>? returns)
    {
        for (var i = 0; i < plan.Count; i++)
        {
            if (plan.Counters[i].Dead)
            {
                return Step.Retry;
            }
        }

        for (var i = 0; i < plan.Count; i++)
        {
            if (!Resolve(plan.Counters[i], plan.Slots[i], nowMs, ref returns, out plan.Serving[i]))
            {
                return Step.PassThrough;
            }
        }

        return null;
    }

    /// <summary>
    /// With the counter locked: finds the lease that may admit a call of <paramref name="slot"/> (or none, when a refill
    /// is needed), first putting away leases the call has outgrown:
    /// a lease of this slot's bucket serves it until its lifetime ends (then it is retired);
    /// a sliding-window lease of any other bucket is retired, its units returned, because they count for this call or
    /// for newer ones (so a late caller is checked by the shared store against exactly what this host admitted);
    /// a fixed-window lease of an older window becomes <see cref="Counter.Previous"/>, which keeps admitting late callers
    /// stamped in its window; another limit's lease on the same key keeps the key until its deadline.
    /// A call stamped in the previous lease's window is served by it. Returns <see langword="false"/> when the shared
    /// store must decide the call: another limit holds the key, or the call is stamped before the newest bucket seen and
    /// no previous lease of its window serves it.
    /// </summary>
    private static bool Resolve(Counter counter, in CounterSlot slot, long nowMs, ref List<CounterCharge>? returns, out Lease? serving)
    {
        serving = null;
        var late = counter.Observe(slot);
        if (counter.Lease is { } lease)
        {
            if (!lease.SameLimit(slot))
            {
                if (nowMs < lease.DeadlineMs)
                {
                    return false;
                }

                Retire(counter, lease, ref returns);
            }
            else if (lease.Serves(slot))
            {
                if (nowMs < lease.LifetimeEnd)
                {
                    serving = lease;
                    return true;
                }

                Retire(counter, lease, ref returns);
            }
            else if (!lease.IsFixed)
            {
                Retire(counter, lease, ref returns);
            }
            else if (slot.BucketStart > lease.BucketStart)
            {
                KeepAsPrevious(counter, lease);
            }
        }

        if (counter.Previous is { } previous && previous.Serves(slot))
        {
            // A caller stamped in the window the previous lease was charged to (late, or still in it when the timer put
            // the lease away): only that lease may serve it, so no second lease of one window is ever charged.
            serving = previous;
            return true;
        }

        return !late;
    }
}
