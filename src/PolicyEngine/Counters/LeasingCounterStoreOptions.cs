namespace PolicyEngine;

/// <summary>Options of a <see cref="LeasingCounterStore"/>; validated and copied when the store is built.</summary>
public sealed class LeasingCounterStoreOptions
{
    /// <summary>The longest <see cref="MaxLeaseLifetime"/> accepted: one day.</summary>
    public static readonly TimeSpan LongestLeaseLifetime = TimeSpan.FromDays(1);

    /// <summary>
    /// The most units one lease takes from the shared store (default 100). A lease is charged up front, so this is also
    /// the most one host can hold unused of one counter: the under-admission bound per other host (see
    /// <see cref="MaxLeaseShare"/>, which may lower it). Units are those of the limit: calls for a <c>cost</c> 1 limit,
    /// cents for a <c>cost_from</c> spend cap, so size it per deployment.
    /// </summary>
    public long LeaseSize { get; set; } = 100;

    /// <summary>
    /// The largest share of a limit's <c>max</c> one lease may take (default 0.1, a tenth; at most 1). A limit of 60 per
    /// minute is then leased 6 at a time whatever <see cref="LeaseSize"/> says, so a host never sits on most of a small
    /// quota; a limit whose share rounds below one unit is reserved call by call, as without leasing.
    /// </summary>
    public double MaxLeaseShare { get; set; } = 0.1;

    /// <summary>
    /// How long a lease may admit calls after it was taken (default 5 seconds; at most one day). An older lease is
    /// retired and its unused units returned even when its window is still current, so a host that goes quiet gives
    /// back what it holds: it bounds how long other hosts can be refused while units sit unused here.
    /// </summary>
    public TimeSpan MaxLeaseLifetime { get; set; } = TimeSpan.FromSeconds(5);
}
