namespace PolicyEngine.Redis;

/// <summary>Options of a <see cref="RedisCounterStore"/>; copied and validated when the store is built.</summary>
public sealed class RedisCounterStoreOptions
{
    /// <summary>
    /// Prepended to every key (default <c>{policyengine}:</c>). It must contain a Redis Cluster hash tag
    /// (<c>{…}</c>, non-empty): every counter of a deployment then lives in one hash slot, which is what lets one
    /// script reserve several counters atomically on Redis Cluster. Use different prefixes to separate deployments or
    /// tenants sharing one Redis.
    /// </summary>
    public string KeyPrefix { get; set; } = "{policyengine}:";

    /// <summary>
    /// The most one store call may take (default 1 second). Asynchronous calls are cut off after it; synchronous calls
    /// are bounded by the connection's <c>SyncTimeout</c>, which <see cref="RedisCounterStore.Connect(string, RedisCounterStoreOptions?)"/>
    /// sets to this value. A call that times out throws <see cref="TimeoutException"/>, and the evaluator's fail mode applies.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How much longer than the writing host believes necessary a counter is kept (default 1 minute), so that hosts
    /// whose clocks lag behind by up to this much still see it. See the clock notes in <c>docs/stores.md</c>.
    /// </summary>
    public TimeSpan ClockSkewAllowance { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// When set, every call fails (and the evaluator's fail mode applies) if the evaluator's clock and the Redis
    /// server's clock differ by more than this. Off by default, because evaluators may run on virtual time.
    /// </summary>
    public TimeSpan? MaxClockSkew { get; set; }

    /// <summary>The Redis database number (default -1: the connection's default database).</summary>
    public int Database { get; set; } = -1;
}
