using StackExchange.Redis;

namespace PolicyEngine.Redis;

// The store, part 3 of 3: reservations and rollbacks whose counters span several hash slots (sharded layout).
//
// Protocol: the requests are grouped by hash slot and the groups reserved one after another in ascending slot order,
// each group by one atomic script call (all of its counters or none). When a group refuses, or a call fails, every
// group already charged is returned (one rollback script per group) and the reservation is refused (or the fault
// rethrown). Every counter is checked against its max when it is charged, so a counter never holds more than max:
// no interleaving of callers, crash or fault can make a limit admit more. What can happen is the opposite: while a
// reservation holds earlier groups before a later one refuses, others may be refused on those counters (for one round
// trip); and a process that dies between groups (or whose rollback fails) leaves the earlier groups charged until
// their windows end. Peeks go group by group too and are not atomic across slots (a peek never is a promise).
public sealed partial class RedisCounterStore
{
    private CounterResult RunAcrossSlots(ReserveCall call, DateTimeOffset now)
    {
        var groups = SlotGroup.Split(call.Slots!);
        for (var g = 0; g < groups.Length; g++)
        {
            var (keys, values) = Subset(call, groups[g], call.Commit);
            Refusal? refusal;
            try
            {
                refusal = Read(Evaluate(CounterScripts.Reserve, keys, values), call.Windows, groups[g].Indices, now);
            }
            catch
            {
                ReturnTaken(call, groups, g);
                throw;
            }

            if (refusal is { } refused)
            {
                ReturnTaken(call, groups, g);
                refused = LowestRefusal(call, groups, g, refused, now);
                return CounterResult.Limited(refused.Index, refused.RetryAfter);
            }
        }

        return Admitted(call);
    }

    private async ValueTask<CounterResult> RunAcrossSlotsAsync(ReserveCall call, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var groups = SlotGroup.Split(call.Slots!);
        for (var g = 0; g < groups.Length; g++)
        {
            var (keys, values) = Subset(call, groups[g], call.Commit);
            Refusal? refusal;
            try
            {
                // Stop between slots once the caller has given up: a reservation nobody will complete must not go on.
                cancellationToken.ThrowIfCancellationRequested();
                refusal = Read(await EvaluateAsync(CounterScripts.Reserve, keys, values, cancellationToken).ConfigureAwait(false), call.Windows, groups[g].Indices, now);
            }
            catch
            {
                await ReturnTakenAsync(call, groups, g).ConfigureAwait(false);
                throw;
            }

            if (refusal is { } refused)
            {
                await ReturnTakenAsync(call, groups, g).ConfigureAwait(false);
                refused = await LowestRefusalAsync(call, groups, g, refused, now, cancellationToken).ConfigureAwait(false);
                return CounterResult.Limited(refused.Index, refused.RetryAfter);
            }
        }

        return Admitted(call);
    }

    /// <summary>
    /// The refusal to report, as in one slot: the lowest refused request. Groups after the refusing one were not
    /// reached; those holding a lower request are peeked (never charged). Best effort: a fault here keeps
    /// <paramref name="refusal"/>, which is a true refusal either way.
    /// </summary>
    private Refusal LowestRefusal(ReserveCall call, SlotGroup[] groups, int refusedGroup, Refusal refusal, DateTimeOffset now)
    {
        for (var g = refusedGroup + 1; g < groups.Length; g++)
        {
            if (groups[g].Indices[0] > refusal.Index)
            {
                continue;
            }

            var (keys, values) = Subset(call, groups[g], commit: false);
            try
            {
                if (Read(Evaluate(CounterScripts.Reserve, keys, values), call.Windows, groups[g].Indices, now) is { } lower && lower.Index < refusal.Index)
                {
                    refusal = lower;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException)
            {
                break;
            }
        }

        return refusal;
    }

    private async ValueTask<Refusal> LowestRefusalAsync(ReserveCall call, SlotGroup[] groups, int refusedGroup, Refusal refusal, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var g = refusedGroup + 1; g < groups.Length; g++)
        {
            if (groups[g].Indices[0] > refusal.Index)
            {
                continue;
            }

            var (keys, values) = Subset(call, groups[g], commit: false);
            try
            {
                var reply = await EvaluateAsync(CounterScripts.Reserve, keys, values, cancellationToken).ConfigureAwait(false);
                if (Read(reply, call.Windows, groups[g].Indices, now) is { } lower && lower.Index < refusal.Index)
                {
                    refusal = lower;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or InvalidOperationException or OperationCanceledException)
            {
                break;
            }
        }

        return refusal;
    }

    /// <summary>The script's keys and arguments for one slot group of a prepared call.</summary>
    private static (RedisKey[] Keys, RedisValue[] Values) Subset(ReserveCall call, SlotGroup group, bool commit)
    {
        var indices = group.Indices;
        var keys = new RedisKey[indices.Length];
        var values = new RedisValue[HeaderValues + (indices.Length * ValuesPerRequest)];
        values[0] = commit ? 1 : 0;
        values[1] = call.Values[1];
        values[2] = call.Values[2];
        for (var i = 0; i < indices.Length; i++)
        {
            keys[i] = call.Keys[indices[i]];
            Array.Copy(call.Values, HeaderValues + (indices[i] * ValuesPerRequest), values, HeaderValues + (i * ValuesPerRequest), ValuesPerRequest);
        }

        return (keys, values);
    }

    /// <summary>The rollback arguments of what one slot group charged; <see langword="null"/> when it charged nothing.</summary>
    private static (RedisKey[] Keys, RedisValue[] Values)? Taken(ReserveCall call, SlotGroup group)
    {
        var live = 0;
        foreach (var index in group.Indices)
        {
            if (call.Windows[index].Amount > 0)
            {
                live++;
            }
        }

        if (live == 0)
        {
            return null;
        }

        var keys = new RedisKey[live];
        var values = new RedisValue[live * 2];
        var i = 0;
        foreach (var index in group.Indices)
        {
            var window = call.Windows[index];
            if (window.Amount > 0)
            {
                keys[i] = call.Keys[index];
                values[2 * i] = window.Amount;
                values[(2 * i) + 1] = window.BucketStart;
                i++;
            }
        }

        return (keys, values);
    }

    /// <summary>
    /// Returns what groups 0 to <paramref name="end"/> − 1 charged (a reservation that will not be admitted). A rollback
    /// that fails is not retried: those charges stay counted until their windows end (the safe side).
    /// </summary>
    private void ReturnTaken(ReserveCall call, SlotGroup[] groups, int end)
    {
        if (!call.Commit)
        {
            return;
        }

        for (var g = 0; g < end; g++)
        {
            if (Taken(call, groups[g]) is { } taken)
            {
                try
                {
                    Evaluate(CounterScripts.Release, taken.Keys, taken.Values);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // Under-admission until the window ends; never over-admission.
                }
            }
        }
    }

    private async ValueTask ReturnTakenAsync(ReserveCall call, SlotGroup[] groups, int end)
    {
        if (!call.Commit || end == 0)
        {
            return;
        }

        // All groups at once (one round trip), and never cancelled by the caller's token: the quota is returned even
        // when the caller has given up.
        var pending = new List<Task>(end);
        for (var g = 0; g < end; g++)
        {
            if (Taken(call, groups[g]) is { } taken)
            {
                pending.Add(EvaluateAsync(CounterScripts.Release, taken.Keys, taken.Values, CancellationToken.None));
            }
        }

        try
        {
            await Task.WhenAll(pending).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Under-admission until the window ends; never over-admission.
        }
    }

    /// <summary>A rollback across slots: one script call per slot; every slot is tried, and the first fault is rethrown.</summary>
    private void ReleaseAcrossSlots(ReleaseCall call)
    {
        List<Exception>? faults = null;
        foreach (var group in call.Groups!)
        {
            var (keys, values) = Subset(call, group);
            try
            {
                Evaluate(CounterScripts.Release, keys, values);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                (faults ??= []).Add(ex);
            }
        }

        if (faults is not null)
        {
            throw faults.Count == 1 ? faults[0] : new AggregateException("the rollback failed in some hash slots", faults);
        }
    }

    private async ValueTask ReleaseAcrossSlotsAsync(ReleaseCall call, CancellationToken cancellationToken)
    {
        var groups = call.Groups!;
        var pending = new Task[groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var (keys, values) = Subset(call, groups[g]);
            pending[g] = EvaluateAsync(CounterScripts.Release, keys, values, cancellationToken);
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private static (RedisKey[] Keys, RedisValue[] Values) Subset(ReleaseCall call, SlotGroup group)
    {
        var indices = group.Indices;
        var keys = new RedisKey[indices.Length];
        var values = new RedisValue[indices.Length * 2];
        for (var i = 0; i < indices.Length; i++)
        {
            keys[i] = call.Keys[indices[i]];
            values[2 * i] = call.Values[2 * indices[i]];
            values[(2 * i) + 1] = call.Values[(2 * indices[i]) + 1];
        }

        return (keys, values);
    }
}
