using System.Collections.Concurrent;
using System.Diagnostics;

namespace PolicyEngine;

/// <summary>
/// The default <see cref="ICounterStore"/>: counters in process memory, exact under any concurrency. Each counter is a
/// small cell of buckets guarded by its own lock; a reservation locks its cells in key order (so two reservations
/// never deadlock), checks every counter, and charges all or none. Expired cells are swept as time passes, so memory
/// holds only counters whose windows are current.
/// </summary>
/// <remarks>
/// <para>Why not <c>MemoryCache</c>: an entry costs several hundred bytes and a lock-free read-modify-write is not
/// possible through it; a cell here is one object of 80 bytes holding a fixed window's buckets in place (sliding
/// windows add one small array), and expiry is a periodic sweep.</para>
/// <para>Memory per counter: keys in the evaluator's format are held by limit, then by scope value, so a grant-scoped
/// counter is stored under the host's own identity string and costs its cell and one dictionary entry (about 140 bytes
/// in all), with no key string of its own.</para>
/// <para>Out-of-order callers (a thread that read the clock before another but reaches the store after it): a call
/// counts what <see cref="CounterSlot.Counts"/> says, so a sliding window also counts buckets newer than its own, and
/// no window-length interval ever holds more than max, whatever the arrival order. Charging drops buckets a window
/// older than anything still counted and remembers the newest dropped start as the cell's horizon; the sweep remembers,
/// per window length, the newest bucket start of the cells it removes, and a cell created later starts from it. A call
/// stamped so far back that it would count something forgotten (<see cref="CounterSlot.IsBehind"/>) is refused with a
/// retry-after that waits past it.</para>
/// </remarks>
public sealed partial class InMemoryCounterStore : CounterStore
{
    private const long SweepIntervalMs = 1_000;

    // Limit prefixes with a table of their own; keys of further prefixes are held whole (see Route).
    private const int MaxPrefixes = 10_000;

    [ThreadStatic]
    private static CounterSlot[]? t_slots;

    [ThreadStatic]
    private static Cell[]? t_cells;

    // Keys in the evaluator's format (CounterKeys) by prefix, then kind, then value: a grant counter is held under the
    // host's own identity string, so the store keeps no second key string per identity. Tables are never removed (a
    // cell is), so a key always reaches the same table. The default comparer (ordinal for strings) lets the runtime
    // use its faster non-randomized hashing until it sees collisions.
    private readonly ConcurrentDictionary<string, Table?[]> _prefixes = new();
    private readonly ConcurrentDictionary<string, Table?[]>.AlternateLookup<ReadOnlySpan<char>> _prefixesBySpan;

    // Every other key (a host's own keys; a key in the format but with a window or algorithm it does not encode), whole.
    private readonly Table _whole;

    // Window length -> the newest bucket start of any swept cell with that window: a cell created later starts with it
    // as its horizon, so sweeping a counter cannot hide its charges from a call stamped far enough back to count them.
    private readonly ConcurrentDictionary<long, long> _sweptHorizons = new();
    private long _nextSweepMs = long.MinValue;

    /// <summary>Creates an empty store.</summary>
    public InMemoryCounterStore()
    {
        _prefixesBySpan = _prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
        _whole = new Table(this, string.Empty, '\0', 0, LimitAlgorithm.Fixed);
    }

    /// <summary>The number of counters currently held (for diagnostics and tests).</summary>
    internal int Count
    {
        get
        {
            var count = _whole.Cells.Count;
            foreach (var (_, tables) in _prefixes)
            {
                foreach (var table in tables)
                {
                    count += table?.Cells.Count ?? 0;
                }
            }

            return count;
        }
    }

    /// <inheritdoc/>
    protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: true);

    /// <inheritdoc/>
    protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: false);

    /// <inheritdoc/>
    protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        foreach (var charge in reservation.Charges)
        {
            // A window that is over is left alone: a rollback never touches a later window.
            if (charge.Amount == 0 || nowMs >= charge.WindowEnd || FindCell(charge) is not { } cell)
            {
                continue;
            }

            cell.Enter();
            try
            {
                cell.Refund(charge.WindowStart, charge.Amount);
            }
            finally
            {
                cell.Exit();
            }
        }
    }

    private CounterResult Run(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        MaybeSweep(nowMs);
        var count = requests.Count;
        if (count == 0)
        {
            return CounterResult.Success(commit ? new CounterReservation([]) : null);
        }

        if (count == 1)
        {
            object? noHint = null;
            var request = requests[0];
            var slot = CounterSlot.For(request, nowMs);
            var table = Route(request, out var valueStart);
            var result = RunOne(slot, table, null, valueStart, nowMs, commit, ref noHint);
            return result.Admitted && commit ? CounterResult.Success(new CounterReservation([slot.ToCharge()])) : result;
        }

        // Per-thread scratch: a reservation never re-enters the store on the same thread, and nothing keeps them.
        var slots = t_slots is { } cachedSlots && cachedSlots.Length >= count ? cachedSlots : (t_slots = new CounterSlot[Math.Max(count, 4)]);
        var cells = t_cells is { } cachedCells && cachedCells.Length >= count ? cachedCells : (t_cells = new Cell[Math.Max(count, 4)]);
        Span<int> order = count <= 16 ? stackalloc int[count] : new int[count];
        for (var i = 0; i < count; i++)
        {
            slots[i] = CounterSlot.For(requests[i], nowMs);
            order[i] = i;
        }

        // Lock in ordinal key order: every reservation takes locks in the same global order, so none can deadlock.
        for (var i = 1; i < count; i++)
        {
            var current = order[i];
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(slots[order[j]].Key, slots[current].Key) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }

        while (true)
        {
            for (var i = 0; i < count; i++)
            {
                var table = Route(requests[i], out var valueStart);
                cells[i] = CellOf(table, null, slots[i].Key.AsSpan(valueStart), slots[i].WindowLength);
            }

            var locked = 0;
            var retry = false;
            try
            {
                for (; locked < count; locked++)
                {
                    var cell = cells[order[locked]];
                    if (locked > 0 && ReferenceEquals(cell, cells[order[locked - 1]]))
                    {
                        // The same counter named twice (its keys sort together): its cell is locked already.
                        continue;
                    }

                    cell.Enter();
                    if (cell.Dead)
                    {
                        // The sweeper removed this cell after we looked it up; look again.
                        retry = true;
                        locked++;
                        break;
                    }
                }

                if (!retry)
                {
                    return Apply(slots, cells, count, nowMs, commit);
                }
            }
            finally
            {
                for (var i = locked - 1; i >= 0; i--)
                {
                    if (i == 0 || !ReferenceEquals(cells[order[i]], cells[order[i - 1]]))
                    {
                        cells[order[i]].Exit();
                    }
                }
            }
        }
    }

    /// <summary>
    /// The refusal of request <paramref name="index"/> when it is stamped behind the cell's horizon or
    /// <paramref name="used"/> leaves no room for it; otherwise <see langword="null"/>. <paramref name="earlier"/> and
    /// <paramref name="earlierCells"/> are the requests before it in the same reservation (charged with it on a retry).
    /// </summary>
    private static CounterResult? Refusal(in CounterSlot slot, Cell cell, long used, long nowMs, int index, ReadOnlySpan<CounterSlot> earlier, ReadOnlySpan<Cell> earlierCells)
    {
        // Stamped so far behind a newer call that the buckets it would count were pruned: refuse rather than count it
        // against a partial history (a clock that lags by about a window is a fault, not traffic).
        var behind = slot.IsBehind(cell.Horizon);
        if (!behind && slot.Amount <= slot.Max - used)
        {
            return null;
        }

        // A fixed window with nothing stored after it (the usual case) waits for its end: no bucket list is needed.
        var buckets = !behind && slot.BucketLength == slot.WindowLength && !cell.HasBucketAfter(slot.BucketStart) && earlier.IsEmpty
            ? []
            : cell.Buckets(slot, earlier, earlierCells);
        return CounterResult.Limited(index, slot.RetryAfter(nowMs, cell.Horizon, buckets));
    }

    /// <summary>
    /// With every cell locked: check every slot first (counting earlier requests for the same counter), then charge
    /// all of them, so nothing is ever charged and undone, and a peek never touches a cell.
    /// </summary>
    private static CounterResult Apply(CounterSlot[] slots, Cell[] cells, int count, long nowMs, bool commit)
    {
        for (var i = 0; i < count; i++)
        {
            ref readonly var slot = ref slots[i];
            var cell = cells[i];
            var used = cell.Sum(slot);
            for (var j = 0; j < i; j++)
            {
                if (ReferenceEquals(cells[j], cell) && slot.Counts(slots[j].BucketStart))
                {
                    used = CounterSlot.SaturatingAdd(used, slots[j].Amount);
                }
            }

            if (Refusal(slot, cell, used, nowMs, i, slots.AsSpan(0, i), cells.AsSpan(0, i)) is { } refused)
            {
                return refused;
            }
        }

        if (!commit)
        {
            return CounterResult.Success(null);
        }

        var charges = new CounterCharge[count];
        for (var i = 0; i < count; i++)
        {
            ref readonly var slot = ref slots[i];
            cells[i].Charge(slot.BucketStart, slot.ReadFrom - slot.WindowLength, slot.ExpiresAt + slot.WindowLength, slot.Amount);
            charges[i] = slot.ToCharge();
        }

        return CounterResult.Success(new CounterReservation(charges));
    }
}
