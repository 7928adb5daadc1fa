using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// The store contract, run against one <see cref="LeasingCounterStore"/> over an in-memory store: seen from one host,
/// leasing must behave like the store it wraps (every unit is either admitted or held by this host's own leases).
/// Leases of 4 units and a share of the whole limit, so that leasing happens even for the contract's small limits.
/// </summary>
public class LeasingCounterStoreContractTests : CounterStoreContractTests
{
    protected override ICounterStore CreateStore() =>
        new LeasingCounterStore(new InMemoryCounterStore(), new LeasingCounterStoreOptions { LeaseSize = 4, MaxLeaseShare = 1 }, new FakeTimeProvider(T0));
}
