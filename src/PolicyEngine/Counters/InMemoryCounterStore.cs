using System.Collections.Concurrent;

namespace PolicyEngine;

/// <summary>
/// The default <see cref="ICounterStore"/>: counters in process memory, exact under any concurrency. Each counter is a
/// small cell of buckets guarded by its own lock; a reservation locks its cells in key order (so two reservations
/// never deadlock), checks every counter, and charges all or none. Expired cells are swept as time passes, so memory
/// holds only counters whose windows are current.
/// </summary>
/// <remarks>
/// <para>Why not <c>MemoryCache</c>: an entry costs several hundred bytes and a lock-free read-modify-write is not
/// possible through it; a cell here is one object of about 90 bytes holding a fixed window's buckets in place (sliding
/// windows add one small array), and expiry is a periodic sweep.</para>
/// <para>Out-of-order callers (a thread that read the clock before another but reaches the store after it): a call
/// counts what <see cref="CounterSlot.Counts"/> says, so a sliding window also counts buckets newer than its own, and
/// no window-length interval ever holds more than max, whatever the arrival order. Charging drops buckets a window
/// older than anything still counted and remembers the newest dropped start as the cell's horizon; the sweep remembers,
/// per window length, the newest bucket start of the cells it removes, and a cell created later starts from it. A call
/// stamped so far back that it would count something forgotten (<see cref="CounterSlot.IsBehind"/>) is refused with a
/// retry-after that waits past it.</para>
/// </remarks>
public sealed class InMemoryCounterStore : ICounterStore
{
    private const long SweepIntervalMs = 1_000;

    [ThreadStatic]
    private static CounterSlot[]? t_slots;

    [ThreadStatic]
    private static Cell[]? t_cells;

    // The default comparer (ordinal for strings) lets the runtime use its faster non-randomized hashing until it sees collisions.
    private readonly ConcurrentDictionary<string, Cell> _cells = new();

    // Window length -> the newest bucket start of any swept cell with that window: a cell created later starts with it
    // as its horizon, so sweeping a counter cannot hide its charges from a call stamped far enough back to count them.
    private readonly ConcurrentDictionary<long, long> _sweptHorizons = new();
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

        if (count == 1)
        {
            object? noHint = null;
            var slot = CounterSlot.For(requests[0], nowMs);
            var result = RunOne(slot, nowMs, commit, ref noHint);
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
                cells[i] = CellOf(slots[i]);
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

    /// <summary>
    /// The cell of <paramref name="slot"/>'s counter, created when missing with the horizon of swept cells of the same
    /// window length (nothing is looked up for a cell that already exists).
    /// </summary>
    private Cell CellOf(in CounterSlot slot) =>
        _cells.GetOrAdd(
            slot.Key,
            static (key, state) => new Cell(state.Store, key, state.Window, state.Store._sweptHorizons.TryGetValue(state.Window, out var horizon) ? horizon : long.MinValue),
            (Store: this, Window: slot.WindowLength));

    /// <summary>
    /// Reserves one counter, starting from <paramref name="hint"/>: a cell this store returned for the same key before
    /// (the evaluator keeps it on the <see cref="PolicyIdentity"/> beside the counter key), so the hot path of a
    /// grant-scoped limit skips the dictionary. A hint that is not this store's cell for this key, or whose cell was
    /// swept, is replaced by the dictionary's.
    /// </summary>
    /// <remarks>What an admitted call charged comes back in <paramref name="charge"/> rather than in a reservation object.</remarks>
    internal CounterResult ReserveOne(in CounterRequest request, DateTimeOffset now, ref object? hint, out CounterCharge charge)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        MaybeSweep(nowMs);
        var slot = CounterSlot.For(request, nowMs);
        var result = RunOne(slot, nowMs, commit: true, ref hint);
        charge = result.Admitted ? slot.ToCharge() : default;
        return result;
    }

    /// <summary>One counter (the common case): no scratch arrays, no lock ordering. An admitted result carries no reservation (the caller builds it from the slot).</summary>
    private CounterResult RunOne(in CounterSlot slot, long nowMs, bool commit, ref object? hint)
    {
        while (true)
        {
            var cell = hint is Cell known && ReferenceEquals(known.Store, this) && string.Equals(known.Key, slot.Key, StringComparison.Ordinal)
                ? known
                : CellOf(slot);
            hint = cell;
            lock (cell)
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
                    // Remember what is forgotten (before the cell can be replaced): a new cell of this window length
                    // refuses calls stamped so far back that they would have counted these buckets.
                    if (cell.Newest is { } newest)
                    {
                        _sweptHorizons.AddOrUpdate(cell.WindowLength, static (_, start) => start, static (_, known, start) => Math.Max(known, start), newest);
                    }

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

    /// <summary>
    /// One counter: its buckets (start, count), oldest first. Buckets are kept for one window beyond what the newest
    /// call counts, so a call stamped a little earlier (another thread's clock read) still sees its window, and a
    /// sliding call stamped earlier counts the newer buckets too; anything older is dropped and remembered as the
    /// horizon, which calls stamped behind it cannot pass. Two buckets (a fixed window and the one before it) live in
    /// the cell itself; sliding windows move to an array.
    /// </summary>
    private sealed class Cell(InMemoryCounterStore store, string key, long windowLength, long horizon)
    {
        /// <summary>The store that holds the cell (a hint from another store is never used).</summary>
        public InMemoryCounterStore Store => store;

        /// <summary>The counter's key (a hint is used only for the key it was found by).</summary>
        public string Key => key;

        private TwoBuckets _inline;
        private long[]? _overflow;
        private int _length;
        private long _horizon = horizon;

        public bool Dead;

        /// <summary>The window length of the counter (its key encodes it), for the store's record of swept cells.</summary>
        public long WindowLength => windowLength;

        /// <summary>The newest stored bucket start, or <see langword="null"/> when nothing is stored.</summary>
        public long? Newest => _length > 0 ? Pairs[2 * (_length - 1)] : null;

        /// <summary>
        /// One window after the newest bucket stops counting: the cell can be swept then. The extra window lets a
        /// call stamped a little late (a thread that read the clock before a boundary) still find its window.
        /// </summary>
        public long ExpiresAt = long.MinValue;

        /// <summary>The buckets as (start, count) pairs: <c>[2i]</c> is a start, <c>[2i + 1]</c> its count.</summary>
        private Span<long> Pairs => _overflow is { } overflow ? overflow : _inline;

        /// <summary>The newest bucket start ever dropped (<see cref="long.MinValue"/> when none was).</summary>
        public long Horizon => _horizon;

        /// <summary>The total of the buckets <paramref name="slot"/> counts (<see cref="CounterSlot.Counts"/>), newer ones included.</summary>
        public long Sum(in CounterSlot slot)
        {
            var pairs = Pairs;
            long total = 0;
            for (var i = 0; i < _length; i++)
            {
                if (slot.Counts(pairs[2 * i]))
                {
                    total = CounterSlot.SaturatingAdd(total, pairs[(2 * i) + 1]);
                }
            }

            return total;
        }

        /// <summary>Whether a bucket newer than <paramref name="start"/> is stored (the buckets are ordered by start).</summary>
        public bool HasBucketAfter(long start) => _length > 0 && Pairs[2 * (_length - 1)] > start;

        /// <summary>
        /// The buckets from <paramref name="slot"/>'s read-from on, newer ones included, plus what the earlier requests of
        /// the same reservation would charge to this cell: what <see cref="CounterSlot.RetryAfter(long, long, ReadOnlySpan{ValueTuple{long, long}})"/> needs.
        /// </summary>
        public (long Start, long Count)[] Buckets(in CounterSlot slot, ReadOnlySpan<CounterSlot> earlier, ReadOnlySpan<Cell> earlierCells)
        {
            var pairs = Pairs;
            var list = new List<(long, long)>(_length + earlier.Length);
            for (var i = 0; i < _length; i++)
            {
                if (pairs[2 * i] >= slot.ReadFrom)
                {
                    list.Add((pairs[2 * i], pairs[(2 * i) + 1]));
                }
            }

            for (var j = 0; j < earlier.Length; j++)
            {
                if (ReferenceEquals(earlierCells[j], this) && earlier[j].BucketStart >= slot.ReadFrom)
                {
                    list.Add((earlier[j].BucketStart, earlier[j].Amount));
                }
            }

            return [.. list];
        }

        /// <summary>Adds to the bucket at <paramref name="bucketStart"/>, dropping buckets that start before <paramref name="keepFrom"/>.</summary>
        public void Charge(long bucketStart, long keepFrom, long retainUntil, long amount)
        {
            var pairs = Pairs;
            var kept = 0;
            var index = -1;
            for (var i = 0; i < _length; i++)
            {
                var start = pairs[2 * i];
                if (start < keepFrom && start != bucketStart)
                {
                    _horizon = Math.Max(_horizon, start);
                    continue;
                }

                pairs[2 * kept] = start;
                pairs[(2 * kept) + 1] = pairs[(2 * i) + 1];
                if (start == bucketStart)
                {
                    index = kept;
                }

                kept++;
            }

            _length = kept;
            if (index < 0)
            {
                if (2 * _length == pairs.Length)
                {
                    var grown = new long[pairs.Length * 2];
                    pairs.CopyTo(grown);
                    _overflow = grown;
                    pairs = grown;
                }

                // Keep buckets ordered by start so the oldest is always first.
                index = _length;
                while (index > 0 && pairs[2 * (index - 1)] > bucketStart)
                {
                    pairs[2 * index] = pairs[2 * (index - 1)];
                    pairs[(2 * index) + 1] = pairs[(2 * index) - 1];
                    index--;
                }

                _length++;
                pairs[2 * index] = bucketStart;
                pairs[(2 * index) + 1] = 0;
            }

            pairs[(2 * index) + 1] = CounterSlot.SaturatingAdd(pairs[(2 * index) + 1], amount);
            if (retainUntil > ExpiresAt)
            {
                ExpiresAt = retainUntil;
            }
        }

        public void Refund(long bucketStart, long amount)
        {
            var pairs = Pairs;
            for (var i = 0; i < _length; i++)
            {
                if (pairs[2 * i] == bucketStart)
                {
                    pairs[(2 * i) + 1] = Math.Max(0, pairs[(2 * i) + 1] - amount);
                    return;
                }
            }
        }
    }

    /// <summary>Room for two (start, count) pairs inside a <see cref="Cell"/>.</summary>
    [System.Runtime.CompilerServices.InlineArray(4)]
    private struct TwoBuckets
    {
        private long _element;
    }
}
