using System.Collections.Concurrent;
using System.Diagnostics;

namespace PolicyEngine;

// The in-memory store, one counter: its buckets, in place for a fixed window.
public sealed partial class InMemoryCounterStore
{
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

        // The cell's lock: 0 free, 1 held. A byte beside Dead fits the cell's padding (it stays 80 bytes), and taking
        // it is one compare-exchange, where Monitor also looks up the thread's id. Not reentrant: a reservation that
        // names one counter twice locks its cell once (see Run).
        private byte _lock;

        /// <summary>Takes the cell's lock, spinning (then yielding) while another thread holds it.</summary>
        public void Enter()
        {
            if (Interlocked.CompareExchange(ref _lock, 1, 0) != 0)
            {
                EnterContended();
            }
        }

        /// <summary>Takes the cell's lock if it is free.</summary>
        public bool TryEnter() => Interlocked.CompareExchange(ref _lock, 1, 0) == 0;

        /// <summary>Releases the cell's lock (a release write: what was written under it is visible to the next holder).</summary>
        public void Exit() => Volatile.Write(ref _lock, 0);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private void EnterContended()
        {
            var spinner = default(SpinWait);
            do
            {
                spinner.SpinOnce();
            }
            while (Volatile.Read(ref _lock) != 0 || Interlocked.CompareExchange(ref _lock, 1, 0) != 0);
        }

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

        /// <summary>
        /// A fixed window's common case in one step, with the lock held: when the newest bucket is the window (of
        /// <paramref name="window"/> ms) that holds <paramref name="nowMs"/>, charges <paramref name="amount"/> to it if
        /// the count stays within <paramref name="max"/>, and returns <see langword="true"/> with the bucket's
        /// <paramref name="start"/> and whether it was <paramref name="admitted"/>. Returns <see langword="false"/>
        /// (nothing changed) for every other case (no bucket yet, a later window, a caller stamped behind the newest
        /// bucket or the horizon, a bucket older than the previous window still held), which the general path decides.
        /// It decides as that path would: a fixed window counts only its own bucket, and the general charge would drop
        /// nothing here (every bucket held starts within one window before the newest).
        /// </summary>
        public bool TryChargeCurrent(long nowMs, long window, long amount, long max, out long start, out bool admitted)
        {
            admitted = false;
            start = 0;
            var length = _length;
            if (length == 0)
            {
                return false;
            }

            var pairs = Pairs;
            var last = 2 * (length - 1);
            start = pairs[last];
            // The general path decides a later window, a caller stamped behind the newest bucket or the horizon, and a
            // cell holding a bucket older than the previous window (put there by a caller stamped more than a window
            // behind), which its charge drops and remembers as the horizon.
            if ((ulong)(nowMs - start) >= (ulong)window || start <= _horizon || pairs[0] < start - window)
            {
                return false;
            }

            var count = pairs[last + 1];
            if (amount <= max - count)
            {
                pairs[last + 1] = count + amount;
                admitted = true;
            }

            return true;
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
