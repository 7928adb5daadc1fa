namespace PolicyEngine.Evaluation;

/// <summary>
/// The handle an admitted <see cref="Decision"/> holds for the quota it reserved. Tickets are recycled: completing a
/// decision returns its ticket to the evaluator's pool, so a host that completes every decision allocates none in
/// steady state. A decision records the ticket's <see cref="Version"/> when it is made; completing moves the version
/// on, so a second completion of the same decision (or of any copy of it), or a completion arriving after the ticket
/// was reused, finds another version and does nothing.
/// </summary>
internal sealed class ReservationTicket
{
    /// <summary>The evaluator that issued the ticket's current use (set when rented); another evaluator ignores it.</summary>
    public PolicyEvaluator? Owner;

    /// <summary>Moves on (by compare-and-swap) exactly once per use: the completion that moves it owns the ticket.</summary>
    public long Version;

    /// <summary>What the store reserved, when it returned a reservation object (several counters, or a custom store).</summary>
    public CounterReservation? Reservation;

    /// <summary>What the store reserved, when it returned a single charge in place (no reservation object).</summary>
    public CounterCharge Charge;

    /// <summary>
    /// For a charge of the in-memory store's grant path (which has no key): the limit prefix and identity id its key
    /// is built from, only when someone needs it (a rollback, or a host reading <see cref="Decision.Reservation"/>).
    /// </summary>
    public (string Prefix, string Id) GrantKey;

    /// <summary>The reservation to hand back to the store on a rollback (allocated only then, for a charge kept in place).</summary>
    public CounterReservation ToReservation() => ToReservation(Reservation, Charge, GrantKey);

    /// <summary>The reservation of what a ticket held (read by <see cref="Decision.Reservation"/> under its version check).</summary>
    public static CounterReservation ToReservation(CounterReservation? reservation, in CounterCharge charge, (string Prefix, string Id) grantKey) =>
        reservation ?? new CounterReservation([charge.Key is null && grantKey.Prefix is not null
            ? charge with { Key = Counters.CounterKeys.Build(grantKey.Prefix, Counters.CounterKeys.Grant, grantKey.Id) }
            : charge]);
}

/// <summary>
/// Recycles <see cref="ReservationTicket"/>s: one ticket per thread in a thread-static slot (a host that evaluates and
/// completes on the same thread never touches shared state), then a small lock-free shared array shaped like
/// <c>Microsoft.Extensions.ObjectPool</c>'s default pool for tickets completed on another thread. An empty pool makes a
/// new ticket; a full one drops the returned ticket. A ticket never returned (a decision the host did not complete) is
/// simply collected. Tickets are shared by all evaluators: each use records its issuer in <see cref="ReservationTicket.Owner"/>.
/// </summary>
internal static class TicketPool
{
    [ThreadStatic]
    private static ReservationTicket? t_ticket;

    private static readonly ReservationTicket?[] Shared = new ReservationTicket?[Math.Max(64, 8 * Environment.ProcessorCount)];

    public static ReservationTicket Rent(PolicyEvaluator owner)
    {
        var ticket = t_ticket;
        if (ticket is not null)
        {
            t_ticket = null;
        }
        else
        {
            ticket = RentShared() ?? new ReservationTicket();
        }

        ticket.Owner = owner;
        return ticket;
    }

    public static void Return(ReservationTicket ticket)
    {
        ticket.Owner = null;
        ticket.Reservation = null;
        ticket.Charge = default;
        ticket.GrantKey = default;
        if (t_ticket is null)
        {
            t_ticket = ticket;
            return;
        }

        var items = Shared;
        for (var i = 0; i < items.Length && Interlocked.CompareExchange(ref items[i], ticket, null) is not null; i++)
        {
        }
    }

    private static ReservationTicket? RentShared()
    {
        var items = Shared;
        for (var i = 0; i < items.Length; i++)
        {
            var item = Volatile.Read(ref items[i]);
            if (item is not null && Interlocked.CompareExchange(ref items[i], null, item) == item)
            {
                return item;
            }
        }

        return null;
    }
}
