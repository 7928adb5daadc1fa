namespace PolicyEngine.Evaluation;

/// <summary>
/// The handle an admitted <see cref="Decision"/> holds for the quota it reserved. Tickets are recycled: completing a
/// decision returns its ticket to the evaluator's pool, so a host that completes every decision allocates none in
/// steady state. A decision records the ticket's <see cref="Version"/> when it is made; completing moves the version
/// on, so a second completion of the same decision (or of any copy of it), or a completion arriving after the ticket
/// was reused, finds another version and does nothing.
/// </summary>
internal sealed class ReservationTicket(PolicyEvaluator owner)
{
    /// <summary>The evaluator whose pool the ticket belongs to; another evaluator ignores it.</summary>
    public PolicyEvaluator Owner { get; } = owner;

    /// <summary>Moves on (by compare-and-swap) exactly once per use: the completion that moves it owns the ticket.</summary>
    public long Version;

    /// <summary>What the store reserved, when it returned a reservation object (several counters, or a custom store).</summary>
    public CounterReservation? Reservation;

    /// <summary>What the store reserved, when it returned a single charge in place (no reservation object).</summary>
    public CounterCharge Charge;

    /// <summary>The reservation to hand back to the store on a rollback (allocated only then, for a charge kept in place).</summary>
    public CounterReservation ToReservation() => Reservation ?? new CounterReservation([Charge]);
}

/// <summary>
/// A small lock-free pool of <see cref="ReservationTicket"/>s, shaped like <c>Microsoft.Extensions.ObjectPool</c>'s
/// default pool: one fast slot and a fixed array. An empty pool makes a new ticket; a full pool drops the returned one.
/// A ticket never returned (a decision the host did not complete) is simply collected.
/// </summary>
internal sealed class TicketPool(PolicyEvaluator owner)
{
    private readonly ReservationTicket?[] _items = new ReservationTicket?[Math.Max(32, 4 * Environment.ProcessorCount)];
    private ReservationTicket? _first;

    public ReservationTicket Rent()
    {
        var item = _first;
        if (item is not null && Interlocked.CompareExchange(ref _first, null, item) == item)
        {
            return item;
        }

        var items = _items;
        for (var i = 0; i < items.Length; i++)
        {
            item = items[i];
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
            {
                return item;
            }
        }

        return new ReservationTicket(owner);
    }

    public void Return(ReservationTicket ticket)
    {
        ticket.Reservation = null;
        ticket.Charge = default;
        if (_first is null && Interlocked.CompareExchange(ref _first, ticket, null) is null)
        {
            return;
        }

        var items = _items;
        for (var i = 0; i < items.Length && Interlocked.CompareExchange(ref items[i], ticket, null) is not null; i++)
        {
        }
    }
}
