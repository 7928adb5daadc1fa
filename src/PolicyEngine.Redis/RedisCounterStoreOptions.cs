namespace PolicyEngine.Redis;

/// <summary>Options of a <see cref="RedisCounterStore"/>; copied and validated when the store is built.</summary>
public sealed class RedisCounterStoreOptions
{
    /// <summary>The prefix <see cref="RedisCounterLayout.SingleSlot"/> uses when <see cref="KeyPrefix"/> is not set.</summary>
    public const string DefaultSingleSlotPrefix = "{policyengine}:";

    /// <summary>The prefix <see cref="RedisCounterLayout.Sharded"/> uses when <see cref="KeyPrefix"/> is not set.</summary>
    public const string DefaultShardedPrefix = "policyengine:";

    /// <summary>
    /// How counters are placed in Redis Cluster hash slots (default <see cref="RedisCounterLayout.SingleSlot"/>: every
    /// counter in one slot, every reservation atomic). <see cref="RedisCounterLayout.Sharded"/> spreads counters over
    /// the slots, and so over a cluster's primaries, by identity and scope. Every process sharing counters must use
    /// the same layout.
    /// </summary>
    public RedisCounterLayout Layout { get; set; } = RedisCounterLayout.SingleSlot;

    /// <summary>
    /// Prepended to every key; use different prefixes to separate deployments or tenants sharing one Redis. When not
    /// set (<see langword="null"/>, the default): <see cref="DefaultSingleSlotPrefix"/> (<c>{policyengine}:</c>) in the
    /// single-slot layout, <see cref="DefaultShardedPrefix"/> (<c>policyengine:</c>) in the sharded layout.
    /// In the single-slot layout the prefix must contain a non-empty Redis Cluster hash tag (<c>{…}</c>): every counter
    /// then lives in that tag's slot, which is what lets one script reserve any counters atomically on Redis Cluster.
    /// In the sharded layout it must contain no brace at all: the store adds each counter's own hash tag after it.
    /// </summary>
    public string? KeyPrefix { get; set; }

    /// <summary>
    /// The most one store call may take (default 1 second). Asynchronous calls are cut off after it; synchronous calls
    /// are bounded by the connection's <c>SyncTimeout</c>, which <see cref="RedisCounterStore.Connect(string, RedisCounterStoreOptions?)"/>
    /// sets to this value. A call that times out throws <see cref="TimeoutException"/>, and the evaluator's fail mode applies.
    /// In the sharded layout a reservation that spans several slots makes one call per slot, each bounded by this.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The most a host's clock may differ from the Redis server's (default 1 minute): every counter is kept this much
    /// longer than the writing host believes necessary, so hosts whose clocks lag by up to this much still see it; with
    /// <see cref="EnforceClockSkew"/>, calls from a host whose clock differs by more fail. See the clock notes in
    /// <c>docs/stores.md</c>.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Whether a call fails (and the evaluator's fail mode applies) when the evaluator's clock and the Redis server's
    /// clock differ by more than <see cref="ClockSkew"/> (default <see langword="false"/>: evaluators may run on virtual
    /// time). When on, the server's clock is read (<c>TIME</c>) on every call.
    /// </summary>
    public bool EnforceClockSkew { get; set; }

    /// <summary>The Redis database number (default -1: the connection's default database).</summary>
    public int Database { get; set; } = -1;
}
