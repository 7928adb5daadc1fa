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
/// Why not <c>MemoryCache</c>: an entry costs several hundred bytes and a lock-free read-modify-write is not possible
/// through it; a cell here is one object with two small arrays, and expiry is a periodic sweep.
/// </remarks>
public sealed class InMemoryCounterStore : ICounterStore
{
    private const long SweepIntervalMs = 1_000;

    [ThreadStatic]
    private static CounterSlot[]? t_slots;

    [ThreadStatic]
    private static Cell[]? t_cells;

    private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
    private long _nextSweepMs = long.MinValue;

    /// <summary>The number of counters currently held (for diagnostics and tests).</summary>
    public int Count => _cells.Count;

    /// <inheritdoc/>
    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: true);

    /// <inheritdoc/>
    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: false);

    /// <inheritdoc/>
    public void Release(CounterReservation reservation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        var nowMs = now.ToUnixTimeMilliseconds();
        foreach (var charge in reservation.Charges)
        {
            // A window that is over is left alone: a rollback never touches a later window.
            if (charge.Amount == 0 || nowMs >= charge.WindowEnd || !_cells.TryGetValue(charge.Key, out var cell))
            {
                continue;
            }

            lock (cell)
            {
                cell.Refund(charge.WindowStart, charge.Amount);
            }
        }
    }

    /// <inheritdoc/>
    public ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Reserve(requests, now));

    /// <inheritdoc/>
    public ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Peek(requests, now));

    /// <inheritdoc/>
    public ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        Release(reservation, now);
        return ValueTask.CompletedTask;
    }

    private CounterResult Run(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var nowMs = now.ToUnixTimeMilliseconds();
        MaybeSweep(nowMs);
        var count = requests.Count;
        if (count == 0)
        {
            return CounterResult.Success(commit ? new CounterReservation([]) : null);
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
                cells[i] = _cells.GetOrAdd(slots[i].Key, static _ => new Cell());
            }

            var locked = 0;
            var retry = false;
            try
            {
                for (; locked < count; locked++)
                {
                    var cell = cells[order[locked]];
                    Monitor.Enter(cell);
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
                    Monitor.Exit(cells[order[i]]);
                }
            }
        }
    }

    /// <summary>With every cell locked: check each slot in request order, charging as we go, and undo on refusal.</summary>
    private static CounterResult Apply(CounterSlot[] slots, Cell[] cells, int count, long nowMs, bool commit)
    {
        var charged = 0;
        for (var i = 0; i < count; i++)
        {
            ref readonly var slot = ref slots[i];
            var cell = cells[i];
            var used = cell.Sum(slot.ReadFrom, slot.BucketStart);
            if (slot.Amount > slot.Max - used)
            {
                var retryAfter = slot.RetryAfter(nowMs, cell.Buckets(slot.ReadFrom, slot.BucketStart));
                for (var j = charged - 1; j >= 0; j--)
                {
                    cells[j].Refund(slots[j].BucketStart, slots[j].Amount);
                }

                return CounterResult.Limited(i, retryAfter);
            }

            // Charge tentatively even for a peek, so a request naming one counter twice is checked against both amounts.
            cell.Charge(slot.BucketStart, slot.ReadFrom, slot.ExpiresAt, slot.Amount);
            charged++;
        }

        if (!commit)
        {
            for (var j = charged - 1; j >= 0; j--)
            {
                cells[j].Refund(slots[j].BucketStart, slots[j].Amount);
            }

            return CounterResult.Success(null);
        }

        var charges = new CounterCharge[count];
        for (var i = 0; i < count; i++)
        {
            charges[i] = slots[i].ToCharge();
        }

        return CounterResult.Success(new CounterReservation(charges));
    }

    private void MaybeSweep(long nowMs)
    {
        var next = Volatile.Read(ref _nextSweepMs);
        if (nowMs < next || Interlocked.CompareExchange(ref _nextSweepMs, nowMs + SweepIntervalMs, next) != next)
        {
            return;
        }

        foreach (var (key, cell) in _cells)
        {
            if (!Monitor.TryEnter(cell))
            {
                continue;
            }

            try
            {
                if (cell.ExpiresAt <= nowMs)
                {
                    cell.Dead = true;
                    _cells.TryRemove(new KeyValuePair<string, Cell>(key, cell));
                }
            }
            finally
            {
                Monitor.Exit(cell);
            }
        }
    }

    /// <summary>One counter: up to <see cref="CounterSlot.SlidingBuckets"/> + 2 buckets (start, count).</summary>
    private sealed class Cell
    {
        private const int Capacity = CounterSlot.SlidingBuckets + 2;
        private readonly long[] _starts = new long[Capacity];
        private readonly long[] _counts = new long[Capacity];
        private int _length;

        public bool Dead;

        /// <summary>When the newest bucket stops counting; the cell can be swept after it.</summary>
        public long ExpiresAt = long.MinValue;

        public long Sum(long readFrom, long bucketStart)
        {
            long total = 0;
            for (var i = 0; i < _length; i++)
            {
                if (_starts[i] >= readFrom && _starts[i] <= bucketStart)
                {
                    total = CounterSlot.SaturatingAdd(total, _counts[i]);
                }
            }

            return total;
        }

        public (long Start, long Count)[] Buckets(long readFrom, long bucketStart)
        {
            var list = new List<(long, long)>(_length);
            for (var i = 0; i < _length; i++)
            {
                if (_starts[i] >= readFrom && _starts[i] <= bucketStart)
                {
                    list.Add((_starts[i], _counts[i]));
                }
            }

            return [.. list];
        }

        public void Charge(long bucketStart, long readFrom, long expiresAt, long amount)
        {
            // Buckets older than anything still counted are dropped first, so the cell stays small.
            var kept = 0;
            var index = -1;
            for (var i = 0; i < _length; i++)
            {
                if (_starts[i] < readFrom && _starts[i] != bucketStart)
                {
                    continue;
                }

                _starts[kept] = _starts[i];
                _counts[kept] = _counts[i];
                if (_starts[kept] == bucketStart)
                {
                    index = kept;
                }

                kept++;
            }

            _length = kept;
            if (index < 0)
            {
                if (_length == Capacity)
                {
                    // Cannot happen while readFrom trails bucketStart by at most SlidingBuckets + 1 buckets; keep the newest.
                    Debug.Fail("counter cell overflow");
                    Array.Copy(_starts, 1, _starts, 0, Capacity - 1);
                    Array.Copy(_counts, 1, _counts, 0, Capacity - 1);
                    _length--;
                }

                index = _length++;
                _starts[index] = bucketStart;
                _counts[index] = 0;
            }

            _counts[index] = CounterSlot.SaturatingAdd(_counts[index], amount);
            if (expiresAt > ExpiresAt)
            {
                ExpiresAt = expiresAt;
            }
        }

        public void Refund(long bucketStart, long amount)
        {
            for (var i = 0; i < _length; i++)
            {
                if (_starts[i] == bucketStart)
                {
                    _counts[i] = Math.Max(0, _counts[i] - amount);
                    return;
                }
            }
        }
    }
}
