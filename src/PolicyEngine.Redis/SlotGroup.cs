namespace PolicyEngine.Redis;

/// <summary>
/// The requests (or charges) of one call that live in one Redis Cluster hash slot: one script call reserves or returns
/// them atomically.
/// </summary>
/// <param name="Slot">The hash slot.</param>
/// <param name="Indices">Positions in the call, ascending (so a group keeps the call's order, and a script's first
/// refusal within a group is the group's lowest refused position).</param>
internal readonly record struct SlotGroup(int Slot, int[] Indices)
{
    /// <summary>
    /// Groups positions by slot, in ascending slot order: the fixed global order in which every caller reserves slots,
    /// so that two callers needing the same full slots meet at the first of them instead of each holding one.
    /// </summary>
    /// <param name="slots">The slot of each position.</param>
    /// <returns>The groups, ascending by slot.</returns>
    public static SlotGroup[] Split(int[] slots)
    {
        var order = new int[slots.Length];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        // Stable: by slot, then by position.
        Array.Sort(order, (a, b) => slots[a] != slots[b] ? slots[a].CompareTo(slots[b]) : a.CompareTo(b));
        var groups = new List<SlotGroup>();
        var start = 0;
        for (var i = 1; i <= order.Length; i++)
        {
            if (i == order.Length || slots[order[i]] != slots[order[start]])
            {
                groups.Add(new SlotGroup(slots[order[start]], order[start..i]));
                start = i;
            }
        }

        return [.. groups];
    }
}
