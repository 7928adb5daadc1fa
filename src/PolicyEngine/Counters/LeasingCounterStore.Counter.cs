using System.Collections;

namespace PolicyEngine;

// The leasing wrapper, part 7 of 7: the state of one counter, its lease, and the charges of a leased reservation.
public sealed partial class LeasingCounterStore
{
    /// <summary>
    /// One counter key: its live lease (at most one), the refill in flight, and how big the next refill should be.
    /// Every field is guarded by the object's own lock.
    /// </summary>
    private sealed class Counter
    {
        /// <summary>The live lease, or <see langword="null"/>. A lease taken out of here is retired (or becomes <see cref="Previous"/>).</summary>
        public Lease? Lease;

        /// <summary>
        /// A fixed-window lease whose window is over for the newest caller: it still admits callers stamped in that window
        /// that arrive late (its units count for nothing else, so they are not returned).
        /// </summary>
        public Lease? Previous;

        /// <summary>The refill in flight (completed when it is merged or failed); others wait for it.</summary>
        public TaskCompletionSource? Refill;

        /// <summary>Whether <see cref="Refill"/> runs on the shared store's synchronous path (a blocking caller may wait for it).</summary>
        public bool RefillIsSynchronous;

        /// <summary>The background top-up in flight (at most one); asynchronous callers that find the lease empty wait for it.</summary>
        public TaskCompletionSource? Prefetch;

        /// <summary>Removed from the store by the sweep: look the key up again.</summary>
        public bool Dead;


        /// <summary>
        /// The sweep keeps an idle counter (no lease) until then (on the timer's clock), so its sizing state is not
        /// forgotten early.
        /// </summary>
        public long KeepUntilTimerMs = long.MinValue;

        // The newest bucket seen for one limit (window, bucket length, max): a call stamped before it is out of order.
        private long _seenWindow = -1;
        private long _seenBucket = -1;
        private long _seenMax;
        private long _newestBucketStart = long.MinValue;

        // Sizing state, for one limit (window, bucket length, max) at a time: the next size to ask for, and whether
        // the shared store refused even the minimum (then refills ask for the minimum only, without waiting in line).
        private long _limitWindow = -1;
        private long _limitBucket = -1;
        private long _limitMax;
        private long _sizedBucketStart = long.MinValue;
        private long _nextSize;
        private bool _exhausted;

        /// <summary>
        /// Records that a call of <paramref name="slot"/> arrived; <see langword="true"/> when it is stamped before the
        /// newest bucket seen for its limit (an out-of-order caller).
        /// </summary>
        public bool Observe(in CounterSlot slot)
        {
            if (slot.WindowLength != _seenWindow || slot.BucketLength != _seenBucket || slot.Max != _seenMax)
            {
                _seenWindow = slot.WindowLength;
                _seenBucket = slot.BucketLength;
                _seenMax = slot.Max;
                _newestBucketStart = slot.BucketStart;
                return false;
            }

            if (slot.BucketStart < _newestBucketStart)
            {
                return true;
            }

            _newestBucketStart = slot.BucketStart;
            return false;
        }

        /// <summary>
        /// Chooses the first size of a refill for <paramref name="slot"/>: the minimum when the counter is exhausted
        /// (returns <see langword="true"/>), else the remembered size within [<paramref name="need"/>, <paramref name="cap"/>].
        /// A new limit, or a new fixed window, starts again from the cap; a sliding window carries its state across
        /// buckets (a full sliding window stays full as it slides).
        /// </summary>
        public bool PlanRefill(in CounterSlot slot, long need, long cap, out long first)
        {
            var sameLimit = slot.WindowLength == _limitWindow && slot.BucketLength == _limitBucket && slot.Max == _limitMax;
            if (!sameLimit || (slot.BucketLength == slot.WindowLength && slot.BucketStart != _sizedBucketStart))
            {
                _limitWindow = slot.WindowLength;
                _limitBucket = slot.BucketLength;
                _limitMax = slot.Max;
                _nextSize = cap;
                _exhausted = false;
            }

            _sizedBucketStart = slot.BucketStart;
            first = _exhausted ? need : Math.Clamp(_nextSize, need, cap);
            return _exhausted;
        }

        /// <summary>The shared store refused even <paramref name="need"/>: ask for the minimum until it gives some.</summary>
        public void NoteRefused(in CounterSlot slot, long need, long nowMs, long timerNowMs)
        {
            _exhausted = true;
            _nextSize = need;

            // Remember it until the window (fixed) or one window (sliding) is over, through idle sweeps.
            var keepFor = Math.Max(0, CounterSlot.SaturatingAdd(slot.BucketStart, slot.WindowLength) - nowMs);
            KeepUntilTimerMs = Math.Max(KeepUntilTimerMs, CounterSlot.SaturatingAdd(timerNowMs, keepFor));
        }

        /// <summary>
        /// A refill asked for <paramref name="first"/> and got <paramref name="size"/>: double after a first-try success
        /// (up to the cap), else start the next refill from what worked.
        /// </summary>
        public void NoteLeased(long first, long size, long cap)
        {
            _exhausted = false;
            _nextSize = size == first ? Math.Min(cap, CounterSlot.SaturatingAdd(size, size)) : size;
        }
    }

    /// <summary>
    /// Units charged to the shared store in one bucket (a fixed window, or one bucket of a sliding window) and not yet
    /// admitted. Guarded by its counter's lock. Once retired (taken out of its counter) it never changes again.
    /// </summary>
    private sealed class Lease
    {
        public Lease(Counter owner, string key, in CounterSlot slot, long createdMs, long createdTimerMs, long lifetimeMs, long units, long lowWater)
        {
            LowWater = lowWater;
            CreatedMs = createdMs;
            CreatedTimerMs = createdTimerMs;
            Owner = owner;
            Key = key;
            BucketStart = slot.BucketStart;
            ReadFrom = slot.ReadFrom;
            BucketLength = slot.BucketLength;
            WindowLength = slot.WindowLength;
            Max = slot.Max;
            ExpiresAt = slot.ExpiresAt;
            LifetimeEnd = CounterSlot.SaturatingAdd(createdMs, lifetimeMs);
            DeadlineMs = Math.Min(LifetimeEnd, CounterSlot.SaturatingAdd(BucketStart, BucketLength));
            DeadlineTimerMs = OnTimerClock(DeadlineMs);
            Remaining = units;
        }

        /// <summary>When it was charged, on the calls' clock (the <c>now</c> the evaluator passed).</summary>
        public long CreatedMs { get; }

        /// <summary>When it was charged, on the timer's clock (the store's <see cref="TimeProvider"/>).</summary>
        public long CreatedTimerMs { get; }

        /// <summary><see cref="DeadlineMs"/> on the timer's clock.</summary>
        public long DeadlineTimerMs { get; }

        /// <summary>The counter whose lock guards this lease.</summary>
        public Counter Owner { get; }

        public string Key { get; }

        public long BucketStart { get; }

        public long ReadFrom { get; }

        public long BucketLength { get; }

        public long WindowLength { get; }

        public long Max { get; }

        /// <summary>When the charged bucket stops counting in the shared store (returning units after it changes nothing).</summary>
        public long ExpiresAt { get; }

        /// <summary>From this instant on the lease admits nothing (its age reached the maximum lifetime).</summary>
        public long LifetimeEnd { get; }

        /// <summary>When the lease is retired at the latest: its bucket's end or its lifetime's, whichever is first.</summary>
        public long DeadlineMs { get; }

        /// <summary>Whether this is a fixed window (one bucket as long as the window).</summary>
        public bool IsFixed => BucketLength == WindowLength;

        /// <summary>When its bucket (a fixed window: the window) ends.</summary>
        public long BucketEnd => CounterSlot.SaturatingAdd(BucketStart, BucketLength);

        /// <summary>Below this many remaining units, a call that takes from the lease starts a background top-up.</summary>
        public long LowWater { get; }

        /// <summary>Units charged and not admitted (rolled-back units come back here while the lease is live).</summary>
        public long Remaining;

        /// <summary>Taken out of its counter: its remaining units went (or are going) back to the shared store.</summary>
        public bool Retired;

        /// <summary>
        /// Whether a call of <paramref name="slot"/> may be admitted from this lease: the same limit, charged to the same
        /// bucket and checked against the same buckets, so that it is counted exactly as the lease's charge was.
        /// </summary>
        public bool Serves(in CounterSlot slot) => slot.BucketStart == BucketStart && slot.ReadFrom == ReadFrom && SameLimit(slot);

        /// <summary>Whether <paramref name="other"/> is a lease of the same limit.</summary>
        public bool SameLimit(Lease other) => other.BucketLength == BucketLength && other.WindowLength == WindowLength && other.Max == Max;

        /// <summary>Whether <paramref name="slot"/> belongs to the same limit (window, bucket length and max).</summary>
        public bool SameLimit(in CounterSlot slot) => slot.BucketLength == BucketLength && slot.WindowLength == WindowLength && slot.Max == Max;

        /// <summary>
        /// An instant of the calls' clock on the timer's clock: the two may differ by any offset (an evaluator on virtual
        /// time), so the timer measures from the instant the lease was charged, as read on both.
        /// </summary>
        public long OnTimerClock(long callMs) => CounterSlot.SaturatingAdd(CreatedTimerMs, Math.Max(0, callMs - CreatedMs));

        /// <summary>The calls' clock estimated from the timer's: the lease's creation plus the time elapsed since.</summary>
        public long OnCallClock(long timerMs) => CounterSlot.SaturatingAdd(CreatedMs, Math.Max(0, timerMs - CreatedTimerMs));

        /// <summary>The charge that returns <paramref name="units"/> of this lease to the shared store.</summary>
        public CounterCharge Charge(long units) => new(Key, units, BucketStart, ExpiresAt);
    }

    /// <summary>
    /// The charges of a reservation admitted from leases, remembering which lease admitted each, so that a rollback
    /// returns the units to that very lease while it is live (and to the shared store otherwise). Any other charges
    /// (the shared store's own reservations) go to the shared store.
    /// </summary>
    private sealed class LeasedCharges : IReadOnlyList<CounterCharge>
    {
        private readonly CounterCharge _single;
        private readonly Lease? _singleLease;
        private readonly CounterCharge[]? _charges;
        private readonly Lease?[]? _leases;

        public LeasedCharges(CounterCharge charge, Lease lease)
        {
            _single = charge;
            _singleLease = lease;
        }

        public LeasedCharges(CounterCharge[] charges, Lease?[] leases)
        {
            _charges = charges;
            _leases = leases;
        }

        public int Count => _charges?.Length ?? 1;

        public CounterCharge this[int index] =>
            _charges is { } charges ? charges[index]
            : index == 0 ? _single
            : throw new ArgumentOutOfRangeException(nameof(index));

        /// <summary>The lease that admitted charge <paramref name="index"/> (<see langword="null"/> for an amount of zero).</summary>
        public Lease? LeaseOf(int index) => _leases is { } leases ? leases[index] : _singleLease;

        public IEnumerator<CounterCharge> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
