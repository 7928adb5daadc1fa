namespace PolicyEngine;

// The leasing wrapper, part 4 of 7: the working set of one call on the slow path.
public sealed partial class LeasingCounterStore
{
    /// <summary>The counters, slots and takings of one call (only the slow path builds one).</summary>
    private sealed class Plan
    {
        public Plan(int count)
        {
            Requests = new CounterRequest[count];
            Slots = new CounterSlot[count];
            Counters = new Counter[count];
            Order = new int[count];
            Serving = new Lease?[count];
            Taken = new Lease?[count];
        }

        public int Count => Requests.Length;

        public CounterRequest[] Requests { get; }

        public CounterSlot[] Slots { get; }

        public Counter[] Counters { get; }

        /// <summary>Request indices in ordinal key order: the order their counters are locked in.</summary>
        public int[] Order { get; }

        /// <summary>The lease that may admit each counter, found by the last look (under the counters' locks).</summary>
        public Lease?[] Serving { get; }

        /// <summary>The lease each amount was taken from (<see langword="null"/>: an amount of zero, or an orphan charge).</summary>
        public Lease?[] Taken { get; }

        /// <summary>Looks every counter up again (some may have been swept since).</summary>
        public void Refresh(LeasingCounterStore store)
        {
            for (var i = 0; i < Count; i++)
            {
                Counters[i] = store.CounterOf(Requests[i].Key);
            }
        }

        public void SortLockOrder()
        {
            for (var i = 0; i < Count; i++)
            {
                var current = i;
                var j = i - 1;
                while (j >= 0 && string.CompareOrdinal(Requests[Order[j]].Key, Requests[current].Key) > 0)
                {
                    Order[j + 1] = Order[j];
                    j--;
                }

                Order[j + 1] = current;
            }
        }

        /// <summary>The reservation of an admitted call: its charges, remembering the lease each came from.</summary>
        public CounterReservation Reservation()
        {
            if (Count == 1)
            {
                var charge = Slots[0].ToCharge();
                return Taken[0] is { } lease
                    ? new CounterReservation(new LeasedCharges(charge, lease))
                    : new CounterReservation([charge]);
            }

            var charges = new CounterCharge[Count];
            for (var i = 0; i < Count; i++)
            {
                charges[i] = Slots[i].ToCharge();
            }

            return new CounterReservation(new LeasedCharges(charges, Taken));
        }
    }
}
