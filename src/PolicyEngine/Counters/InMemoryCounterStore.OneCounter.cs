using System.Collections.Concurrent;
using System.Diagnostics;
using PolicyEngine.Counters;

namespace PolicyEngine;

// The in-memory store, the single-counter paths the evaluator takes (no reservation object, a cell hint).
public sealed partial class InMemoryCounterStore
{
    /// <summary>
    /// Reserves one counter (by its whole key), starting from <paramref name="hint"/>: a cell this store returned for
    /// the same counter before. A hint that is not this store's cell of the same table, or whose cell was swept, is
    /// replaced by the table's.
    /// </summary>
    /// <remarks>What an admitted call charged comes back in <paramref name="charge"/> rather than in a reservation object.</remarks>
    internal CounterResult ReserveOne(in CounterRequest request, DateTimeOffset now, ref object? hint, out CounterCharge charge)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        MaybeSweep(nowMs);
        var slot = CounterSlot.For(request, nowMs);
        var table = Route(request, out var valueStart);
        var result = RunOne(slot, table, null, valueStart, nowMs, commit: true, ref hint);
        charge = result.Admitted ? slot.ToCharge() : default;
        return result;
    }

    /// <summary>
    /// Reserves the grant-scoped counter of the limit whose keys start with <paramref name="prefix"/> for the identity
    /// <paramref name="id"/>, without building its key: the counter is held under <paramref name="id"/> itself.
    /// <paramref name="request"/> gives the amount, max, window and algorithm (its key is not read). The evaluator
    /// keeps <paramref name="hint"/> on the identity, for that one limit only, so a hint of the same table is this
    /// identity's cell; any other hint is replaced. <paramref name="tableHint"/> (kept on the compiled limit) is the
    /// table last used for the prefix, used only when it is this store's. The admitted charge comes back with a <see langword="null"/> key:
    /// the caller knows it (<see cref="CounterKeys.Build"/> of prefix, grant kind and id).
    /// </summary>
    internal CounterResult ReserveGrant(string prefix, string id, in CounterRequest request, DateTimeOffset now, ref object? tableHint, ref object? hint, out CounterCharge charge)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        MaybeSweep(nowMs);
        var slot = CounterSlot.For(request, nowMs);
        // The prefix encodes the window and algorithm, so a table of the same prefix string (the limit's own, in the
        // common case) counts this request; the evaluator builds both from one rule.
        var table = hint is Cell cell && IsGrantTableOf(cell.Table, prefix) ? cell.Table
            : tableHint is Table known && IsGrantTableOf(known, prefix) ? known
            : TableOf(prefix, prefix, CounterKeys.Grant, slot.WindowLength, request.Algorithm);
        Debug.Assert(table is null || (table.WindowLength == slot.WindowLength && table.Algorithm == request.Algorithm), "a grant request has the window and algorithm its prefix encodes");
        if (table is not null && !ReferenceEquals(tableHint, table))
        {
            tableHint = table;
        }

        if (table is null)
        {
            // Past MaxPrefixes: this prefix's keys are held whole.
            var key = CounterKeys.Build(prefix, CounterKeys.Grant, id);
            var whole = request with { Key = key };
            return ReserveOne(whole, now, ref hint, out charge);
        }

        var result = RunOne(slot, table, id, 0, nowMs, commit: true, ref hint);
        charge = result.Admitted ? slot.ToCharge() : default;
        return result;
    }

    private bool IsGrantTableOf(Table table, string prefix) =>
        ReferenceEquals(table.Prefix, prefix) && table.Store == this && table.Kind == CounterKeys.Grant;

    /// <summary>
    /// One counter (the common case): no scratch arrays, no lock ordering. The cell is <paramref name="hint"/> when
    /// that is a cell of <paramref name="table"/>, else the table's cell for the value: <paramref name="valueString"/>
    /// or the slot's key from <paramref name="valueStart"/>. An admitted result carries no reservation (the caller
    /// builds it from the slot).
    /// </summary>
    private CounterResult RunOne(in CounterSlot slot, Table table, string? valueString, int valueStart, long nowMs, bool commit, ref object? hint)
    {
        while (true)
        {
            var cell = hint is Cell known && ReferenceEquals(known.Table, table)
                ? known
                : CellOf(table, valueString, valueString is not null ? valueString.AsSpan() : slot.Key.AsSpan(valueStart), slot.WindowLength);
            hint = cell;
            cell.Enter();
            try
            {
                if (cell.Dead)
                {
                    // The sweeper removed this cell after we looked it up; look again.
                    hint = null;
                    continue;
                }

                if (Refusal(slot, cell, cell.Sum(slot), nowMs, 0, [], []) is { } refused)
                {
                    return refused;
                }

                if (!commit)
                {
                    return CounterResult.Success(null);
                }

                cell.Charge(slot.BucketStart, slot.ReadFrom - slot.WindowLength, slot.ExpiresAt + slot.WindowLength, slot.Amount);
                return CounterResult.Success(null);
            }
            finally
            {
                cell.Exit();
            }
        }
    }
}
