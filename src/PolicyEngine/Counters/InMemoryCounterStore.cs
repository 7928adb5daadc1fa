using System.Collections.Concurrent;
using System.Diagnostics;
using PolicyEngine.Counters;

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
public sealed class InMemoryCounterStore : ICounterStore
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
    public int Count
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
            if (charge.Amount == 0 || nowMs >= charge.WindowEnd || FindCell(charge) is not { } cell)
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
    /// The table that holds <paramref name="request"/>'s counter, and where its value starts in the key: a key in the
    /// evaluator's format (<see cref="CounterKeys"/>) whose window and algorithm are the request's goes to its prefix's
    /// table; any other key is held whole. A key always routes the same way: the prefix tables are never removed, and
    /// once <see cref="MaxPrefixes"/> exist, new prefixes are held whole for good.
    /// </summary>
    private Table Route(in CounterRequest request, out int valueStart)
    {
        var key = request.Key;
        ArgumentNullException.ThrowIfNull(key, nameof(request));
        if (CounterKeys.TryParse(key, out var prefixLength, out var kind, out valueStart, out var window, out var algorithm)
            && window == Math.Max(1, (long)request.Window.TotalMilliseconds)
            && algorithm == request.Algorithm
            && TableOf(key.AsSpan(0, prefixLength), null, kind, window, algorithm) is { } table)
        {
            return table;
        }

        valueStart = 0;
        return _whole;
    }

    /// <summary>The table of (prefix, kind), created when missing; <see langword="null"/> for a kind without tables or past <see cref="MaxPrefixes"/>.</summary>
    private Table? TableOf(ReadOnlySpan<char> prefix, string? prefixString, char kind, long window, LimitAlgorithm algorithm)
    {
        var index = KindIndex(kind);
        if (index < 0)
        {
            return null;
        }

        if (!_prefixesBySpan.TryGetValue(prefix, out var tables))
        {
            if (_prefixes.Count >= MaxPrefixes)
            {
                return null;
            }

            tables = _prefixes.GetOrAdd(prefixString ?? new string(prefix), new Table?[5]);
        }

        return Volatile.Read(ref tables[index])
            ?? Interlocked.CompareExchange(ref tables[index], new Table(this, prefixString ?? new string(prefix), kind, window, algorithm), null)
            ?? tables[index]!;
    }

    private static int KindIndex(char kind) => kind switch
    {
        CounterKeys.Grant => 0,
        't' => 1,
        's' => 2,
        'j' => 3,
        CounterKeys.Global => 4,
        _ => -1,
    };

    /// <summary>
    /// The cell of <paramref name="value"/> in <paramref name="table"/>, created when missing with the horizon of swept
    /// cells of the same window length. <paramref name="valueString"/>, when given, is <paramref name="value"/> as a
    /// string the table may keep (the host's identity id), so nothing is allocated for the key.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private Cell CellOf(Table table, string? valueString, ReadOnlySpan<char> value, long windowLength)
    {
        if (valueString is not null ? table.Cells.TryGetValue(valueString, out var cell) : table.BySpan.TryGetValue(value, out cell))
        {
            return cell;
        }

        var horizon = _sweptHorizons.TryGetValue(table.IsWhole ? windowLength : table.WindowLength, out var swept) ? swept : long.MinValue;
        Cell created = table.IsWhole ? new WholeKeyCell(table, windowLength, horizon) : new Cell(table, horizon);
        return table.Cells.GetOrAdd(valueString ?? new string(value), created);
    }

    /// <summary>The cell a charge was made to, if it is still held (a charge records no window, so its span tells the tables apart).</summary>
    private Cell? FindCell(in CounterCharge charge)
    {
        if (CounterKeys.TryParse(charge.Key, out var prefixLength, out var kind, out var valueStart, out _, out _)
            && KindIndex(kind) is >= 0 and var index
            && _prefixesBySpan.TryGetValue(charge.Key.AsSpan(0, prefixLength), out var tables)
            && Volatile.Read(ref tables[index]) is { } table
            && charge.WindowEnd - charge.WindowStart == table.ChargeSpan
            && table.BySpan.TryGetValue(charge.Key.AsSpan(valueStart), out var cell))
        {
            return cell;
        }

        return _whole.Cells.TryGetValue(charge.Key, out var whole) ? whole : null;
    }

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
        var table = tableHint is Table known && known.Store == this && known.Kind == CounterKeys.Grant && ReferenceEquals(known.Prefix, prefix)
            ? known
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

        Sweep(_whole, nowMs);
        foreach (var (_, tables) in _prefixes)
        {
            foreach (var table in tables)
            {
                if (table is not null)
                {
                    Sweep(table, nowMs);
                }
            }
        }
    }

    private void Sweep(Table table, long nowMs)
    {
        foreach (var (key, cell) in table.Cells)
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
                        var window = cell is WholeKeyCell whole ? whole.WindowLength : table.WindowLength;
                        _sweptHorizons.AddOrUpdate(window, static (_, start) => start, static (_, known, start) => Math.Max(known, start), newest);
                    }

                    cell.Dead = true;
                    table.Cells.TryRemove(new KeyValuePair<string, Cell>(key, cell));
                }
            }
            finally
            {
                Monitor.Exit(cell);
            }
        }
    }

    /// <summary>
    /// The counters of one (prefix, kind) of the evaluator's key format, by value; or, for the store's one table with
    /// kind <c>'\0'</c> (<see cref="IsWhole"/>), every other counter by its whole key. Everything a cell would repeat
    /// lives here once: the store, the window and how long a charge keeps a cell.
    /// </summary>
    private sealed class Table
    {
        public Table(InMemoryCounterStore store, string prefix, char kind, long windowLength, LimitAlgorithm algorithm)
        {
            Store = store;
            Prefix = prefix;
            Kind = kind;
            WindowLength = windowLength;
            Algorithm = algorithm;
            Cells = new();
            BySpan = Cells.GetAlternateLookup<ReadOnlySpan<char>>();
            if (kind != '\0')
            {
                var slot = CounterSlot.For(new CounterRequest(prefix, 1, 1, TimeSpan.FromMilliseconds(windowLength), algorithm), 0);
                ChargeSpan = slot.ExpiresAt - slot.BucketStart;
                Retention = slot.ExpiresAt + slot.WindowLength - slot.BucketStart;
            }
        }

        public InMemoryCounterStore Store { get; }

        public string Prefix { get; }

        public char Kind { get; }

        /// <summary>The window length every key of the table encodes (0 for the whole-key table: see <see cref="WholeKeyCell"/>).</summary>
        public long WindowLength { get; }

        public LimitAlgorithm Algorithm { get; }

        /// <summary><see cref="CounterCharge.WindowEnd"/> minus <see cref="CounterCharge.WindowStart"/> of every charge to the table.</summary>
        public long ChargeSpan { get; }

        /// <summary>How long after the start of its newest bucket a cell is kept (see <see cref="Cell.ExpiresAt"/>).</summary>
        public long Retention { get; }

        public bool IsWhole => Kind == '\0';

        public ConcurrentDictionary<string, Cell> Cells { get; }

        public ConcurrentDictionary<string, Cell>.AlternateLookup<ReadOnlySpan<char>> BySpan { get; }
    }

    /// <summary>A cell of the whole-key table: its window and expiry are its own (its key may be anything).</summary>
    private sealed class WholeKeyCell(Table table, long windowLength, long horizon) : Cell(table, horizon)
    {
        public long WindowLength => windowLength;

        public long Expires = long.MinValue;
    }

    /// <summary>
    /// One counter: its buckets (start, count), oldest first. Buckets are kept for one window beyond what the newest
    /// call counts, so a call stamped a little earlier (another thread's clock read) still sees its window, and a
    /// sliding call stamped earlier counts the newer buckets too; anything older is dropped and remembered as the
    /// horizon, which calls stamped behind it cannot pass. Two buckets (a fixed window and the one before it) live in
    /// the cell itself; sliding windows move to an array. A cell is 80 bytes: what all the cells of one limit share
    /// lives in their <see cref="Table"/>.
    /// </summary>
    private class Cell(Table table, long horizon)
    {
        private TwoBuckets _inline;
        private long[]? _overflow;
        private int _length;
        private long _horizon = horizon;

        public bool Dead;

        /// <summary>The table that holds the cell (a hint of another table is never used).</summary>
        public Table Table => table;

        /// <summary>The newest stored bucket start, or <see langword="null"/> when nothing is stored.</summary>
        public long? Newest => _length > 0 ? Pairs[2 * (_length - 1)] : null;

        /// <summary>
        /// One window after the newest bucket stops counting: the cell can be swept then. The extra window lets a
        /// call stamped a little late (a thread that read the clock before a boundary) still find its window. In a
        /// prefix table every charge keeps the cell for the same time after its bucket's start, so this follows from
        /// the newest bucket.
        /// </summary>
        public long ExpiresAt => this is WholeKeyCell whole ? whole.Expires
            : _length > 0 ? Pairs[2 * (_length - 1)] + table.Retention
            : long.MinValue;

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
            Debug.Assert(this is WholeKeyCell || retainUntil - bucketStart == table.Retention, "a prefix table's charges keep a cell for its retention");
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
            if (this is WholeKeyCell whole && retainUntil > whole.Expires)
            {
                whole.Expires = retainUntil;
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
