namespace PolicyEngine;

// The leasing wrapper, part 5 of 7: peeks (the approval path), answered from the leases where they can.
public sealed partial class LeasingCounterStore
{
    /// <summary>
    /// A peek looks at the leases as a reservation would (putting away the same outgrown leases, so the two agree),
    /// counts what each serving lease holds as room, and asks the shared store (one call) only whether it has what the
    /// leases lack. Calls that leases cannot serve are peeked at the shared store as they are.
    /// </summary>
    private async ValueTask<CounterResult> PeekLeased(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool synchronous, CancellationToken cancellationToken)
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

            plan.Refresh(this);
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
}
