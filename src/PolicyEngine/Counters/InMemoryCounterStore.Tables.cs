using System.Collections.Concurrent;
using System.Diagnostics;
using PolicyEngine.Counters;

namespace PolicyEngine;

// The in-memory store, where counters live: tables by limit prefix and kind, routing a key to its table, the sweep.
public sealed partial class InMemoryCounterStore
{
    /// <summary>
    /// The table that holds <paramref name="request"/>'s counter, and where its value starts in the key: a key in the
    /// evaluator's format (<see cref="CounterKeys"/>) whose window and algorithm are the request's goes to its prefix's
    /// table; any other key is held whole. A key always routes the same way: the prefix tables are never removed, and
    /// once <see cref="MaxPrefixes"/> exist, new prefixes are held whole for good.
    /// </summary>
    private Table Route(in CounterRequest request, out int valueStart)
    {
        var key = request.Key;
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
            // Deciding "held whole" and adding a prefix happen under one lock (once per prefix), so no prefix can be
            // held whole by one caller while another adds its table: a key is one counter, always.
            lock (_prefixes)
            {
                if (!_prefixesBySpan.TryGetValue(prefix, out tables))
                {
                    if (_prefixes.Count >= MaxPrefixes)
                    {
                        return null;
                    }

                    tables = new Table?[5];
                    _prefixes[prefixString ?? new string(prefix)] = tables;
                }
            }
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
            if (!cell.TryEnter())
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
                cell.Exit();
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
}
