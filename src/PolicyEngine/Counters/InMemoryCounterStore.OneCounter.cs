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

        // The prefix encodes the window and algorithm, so a table of the same prefix string (the limit's own, in the
        // common case) counts this request; the evaluator builds both from one rule.
        var table = hint is Cell hinted && IsGrantTableOf(hinted.Table, prefix) ? hinted.Table
            : tableHint is Table known && IsGrantTableOf(known, prefix) ? known
            : TableOf(prefix, prefix, CounterKeys.Grant, CounterSlot.LengthOf(request.Window), request.Algorithm);
        if (table is null)
        {
            // Past MaxPrefixes: this prefix's keys are held whole.
            var key = CounterKeys.Build(prefix, CounterKeys.Grant, id);
            var whole = request with { Key = key };
            return ReserveOne(whole, now, ref hint, out charge);
        }

        Debug.Assert(table.WindowLength == CounterSlot.LengthOf(request.Window) && table.Algorithm == request.Algorithm, "a grant request has the window and algorithm its prefix encodes");
        if (!ReferenceEquals(tableHint, table))
        {
            tableHint = table;
        }

        if (request.Algorithm == LimitAlgorithm.Fixed)
        {
            var cell = hint is Cell mine && ReferenceEquals(mine.Table, table) ? mine : CellOf(table, id, id, table.WindowLength);
            hint = cell;
            if (TryChargeCurrent(cell, request, nowMs, out var settled, out charge))
            {
                return settled;
            }
        }

        var slot = CounterSlot.For(request, nowMs);
        var result = RunOne(slot, table, id, 0, nowMs, commit: true, ref hint);
        charge = result.Admitted ? slot.ToCharge() : default;
        return result;
    }

    /// <summary>
    /// A fixed window's common case in one step: <paramref name="cell"/>'s newest bucket is the window that holds
    /// <paramref name="nowMs"/> (see <see cref="Cell.TryChargeCurrent"/>). Returns <see langword="false"/>, having
    /// changed nothing, when the general path must decide.
    /// </summary>
    private static bool TryChargeCurrent(Cell cell, in CounterRequest request, long nowMs, out CounterResult result, out CounterCharge charge)
    {
        var window = cell.Table.WindowLength;
        long start = 0;
        var admitted = false;
        cell.Enter();
        var settled = !cell.Dead && cell.TryChargeCurrent(nowMs, window, request.Amount, request.Max, out start, out admitted);
        cell.Exit();
        charge = admitted ? new CounterCharge(request.Key, request.Amount, start, start + window) : default;
        result = !settled ? default
            : admitted ? CounterResult.Success(null)
            : CounterResult.Limited(0, TimeSpan.FromMilliseconds(start + window - nowMs));
        return settled;
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
