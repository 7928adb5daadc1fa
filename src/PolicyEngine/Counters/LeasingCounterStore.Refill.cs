namespace PolicyEngine;

// The leasing wrapper, part 3 of 7: refills that charge leases to the shared store, merged under the counter's lock,
// and background top-ups.
public sealed partial class LeasingCounterStore
{
    /// <summary>
    /// Charges a lease for counter <paramref name="index"/> to the shared store: asks for the planned size and halves it
    /// on refusal down to <paramref name="need"/>; merges what it got into the counter's lease. One refill per counter
    /// is in flight at a time (others wait for it and look again), except when the counter is exhausted: then every
    /// caller asks for its own minimum at once, as it would without leasing. A one-counter call takes its amount as the
    /// refill is merged (<see cref="Step.Admitted"/>); <see cref="Step.Short"/> carries the shared store's retry-after.
    /// </summary>
    private async ValueTask<(Step Step, TimeSpan RetryAfter)> Refill(Plan plan, int index, long need, DateTimeOffset now, long nowMs, bool synchronous, CancellationToken cancellationToken, TaskCompletionSource? prefetch = null)
    {
        var counter = plan.Counters[index];
        var request = plan.Requests[index];
        var slot = plan.Slots[index];
        var cap = Cap(request.Max, need);
        TaskCompletionSource? wait = null;
        TaskCompletionSource? mine = null;
        long first;
        lock (counter)
        {
            if (counter.Dead)
            {
                return (Step.Retry, default);
            }

            var exhausted = counter.PlanRefill(slot, need, cap, out first);
            if (prefetch is not null)
            {
                // A top-up (its completion source is already the counter's Prefetch): never while the counter is
                // exhausted or a refill is in flight, and never past the cap in all.
                first = Math.Min(first, cap - (counter.Lease?.Remaining ?? 0));
                if (exhausted || counter.Refill is not null || first < need)
                {
                    return (Step.Retry, default);
                }
            }
            else if (!exhausted)
            {
                if ((counter.Refill ?? counter.Prefetch) is { } inFlight)
                {
                    if (!synchronous || (ReferenceEquals(inFlight, counter.Refill) && counter.RefillIsSynchronous))
                    {
                        wait = inFlight;
                    }
                    else
                    {
                        // A blocking caller never waits for an asynchronous refill or top-up, whose completion may need a
                        // thread-pool thread this caller holds: it charges just what it needs itself.
                        first = need;
                    }
                }
                else
                {
                    counter.Refill = mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    counter.RefillIsSynchronous = synchronous;
                }
            }
        }

        if (wait is not null)
        {
            if (synchronous)
            {
                wait.Task.Wait(cancellationToken);
            }
            else
            {
                await wait.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            return (Step.Waited, default);
        }

        try
        {
            var one = new CounterRequest[1];
            var size = first;
            CounterResult result;
            while (true)
            {
                one[0] = request with { Amount = size };
                result = synchronous ? _inner.Reserve(one, now) : await _inner.ReserveAsync(one, now, cancellationToken).ConfigureAwait(false);
                if (result.Admitted)
                {
                    break;
                }

                if (size <= need)
                {
                    var timerNowMs = TimerNowMs();
                    lock (counter)
                    {
                        counter.NoteRefused(slot, need, nowMs, timerNowMs);
                    }

                    return (Step.Short, result.RetryAfter);
                }

                size = Math.Max(need, size / 2);
            }

            if (result.Reservation is not { } charged || charged.Charges is not [var charge]
                || !string.Equals(charge.Key, request.Key, StringComparison.Ordinal) || charge.Amount != size
                || charge.WindowStart != slot.BucketStart || charge.WindowEnd != slot.ExpiresAt)
            {
                // The shared store charged something other than the bucket this wrapper computed (a store with its own
                // window arithmetic): never lease it, give it back, and let the shared store decide the call.
                if (result.Reservation is { } other)
                {
                    await ReturnReservation(other, now, synchronous, cancellationToken).ConfigureAwait(false);
                }

                return (Step.PassThrough, default);
            }

            List<CounterCharge>? returns = null;
            long orphan;
            bool took;
            lock (counter)
            {
                counter.NoteLeased(first, size, cap);
                (orphan, took) = Merge(counter, plan, index, size, cap, nowMs, take: prefetch is null && plan.Count == 1, ref returns);
                if (mine is not null && ReferenceEquals(counter.Refill, mine))
                {
                    counter.Refill = null;
                }

                if (prefetch is not null && ReferenceEquals(counter.Prefetch, prefetch))
                {
                    counter.Prefetch = null;
                }
            }

            // Waiters may look at the merged lease now; the returns below need not hold them up.
            mine?.TrySetResult();
            prefetch?.TrySetResult();
            if (orphan > 0)
            {
                (returns ??= []).Add(new CounterCharge(request.Key, orphan, slot.BucketStart, slot.ExpiresAt));
            }

            if (returns is not null)
            {
                await Return(returns, now, synchronous, cancellationToken).ConfigureAwait(false);
            }

            return (took ? Step.Admitted : orphan > 0 ? Step.PassThrough : Step.Retry, default);
        }
        finally
        {
            if (mine is not null && !mine.Task.IsCompleted)
            {
                lock (counter)
                {
                    if (ReferenceEquals(counter.Refill, mine))
                    {
                        counter.Refill = null;
                    }
                }

                mine.TrySetResult();
            }
        }
    }

    /// <summary>
    /// With the counter locked: adds <paramref name="size"/> freshly charged units to the lease of their bucket (a new
    /// lease when there is none; see <see cref="Resolve"/>). Units that cannot join (the store is disposed, another
    /// limit's lease holds the key, or a newer caller has moved the counter past this bucket) are orphans: a
    /// one-counter call takes its own amount from them and the rest goes back. A one-counter call takes its amount from
    /// the lease right away, so a refiller is never starved by others.
    /// </summary>
    private (long Orphan, bool Took) Merge(Counter counter, Plan plan, int index, long size, long cap, long nowMs, bool take, ref List<CounterCharge>? returns)
    {
        ref readonly var slot = ref plan.Slots[index];
        var amount = plan.Requests[index].Amount;
        if (Volatile.Read(ref _disposed) != 0 || !Resolve(counter, slot, nowMs, ref returns, out var lease)
            || (lease is null && counter.Lease is not null) || (lease is not null && !ReferenceEquals(lease, counter.Lease)))
        {
            return Orphaned(size, amount, take);
        }

        if (lease is null)
        {
            lease = counter.Lease = new Lease(counter, plan.Requests[index].Key, slot, nowMs, TimerNowMs(), _lifetimeMs, size, lowWater: cap / 4);
            Arm(lease.DeadlineTimerMs);
        }
        else
        {
            lease.Remaining = CounterSlot.SaturatingAdd(lease.Remaining, size);
        }

        if (take && lease.Remaining >= amount)
        {
            lease.Remaining -= amount;
            plan.Taken[index] = lease;
            return (0, true);
        }

        return (0, false);
    }

    /// <summary>Units charged for a bucket no lease can hold: a one-counter call that fits takes its amount from them.</summary>
    private static (long Orphan, bool Took) Orphaned(long size, long amount, bool take) =>
        take && size >= amount ? (size - amount, true) : (size, false);

    /// <summary>
    /// Tops up a lease that fell below a quarter of its cap, in the background, so that callers of a busy counter rarely find
    /// it empty and wait for a round trip. Held units stay within the cap (see <see cref="Refill"/>); a failure is left
    /// to the next caller that needs a refill.
    /// </summary>
    private async Task PrefetchAsync(Counter counter, CounterRequest request, DateTimeOffset now, TaskCompletionSource prefetch)
    {
        try
        {
            var nowMs = now.ToUnixTimeMilliseconds();
            var plan = new Plan(1);
            plan.Requests[0] = request with { Amount = 1 };
            plan.Slots[0] = CounterSlot.For(plan.Requests[0], nowMs);
            plan.Counters[0] = counter;
            if (Volatile.Read(ref _disposed) == 0)
            {
                await Refill(plan, 0, need: 1, now, nowMs, synchronous: false, CancellationToken.None, prefetch).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The next caller that finds the lease empty refills it (and meets the fault itself).
        }
        finally
        {
            lock (counter)
            {
                if (ReferenceEquals(counter.Prefetch, prefetch))
                {
                    counter.Prefetch = null;
                }
            }

            prefetch.TrySetResult();
        }
    }
}
