namespace PolicyEngine.Redis;

/// <summary>How a <see cref="RedisCounterStore"/> places counters in Redis Cluster hash slots.</summary>
/// <remarks>
/// Every process that shares counters must use the same layout and key prefix: the two layouts name the same counter
/// with different Redis keys, so a fleet that mixes them keeps two separate counts and may admit up to <c>max</c> in
/// each. See <c>docs/stores.md</c> for when to choose which.
/// </remarks>
public enum RedisCounterLayout
{
    /// <summary>
    /// Every counter under one hash tag taken from the key prefix (default <c>{policyengine}:</c>): every counter of a
    /// deployment lives in one hash slot, so every reservation, whatever counters it names, is one atomic script call.
    /// On Redis Cluster that slot's primary handles all of the deployment's decisions. The default.
    /// </summary>
    SingleSlot = 0,

    /// <summary>
    /// Each counter carries a hash tag of its own, chosen from its scope: a grant-scoped counter by the identity (all of
    /// one identity's counters share a slot), a tool-scoped one by the tool, an <c>args.*</c>-scoped one by the
    /// argument value, a global one by the counter id. Counters spread over the cluster's primaries. A reservation
    /// whose counters share a slot (for example only grant-scoped limits) is still one atomic script call; one that
    /// spans slots reserves slot by slot in ascending slot order and returns what it took when a later slot refuses,
    /// so it never admits more than <c>max</c>, but may under-admit if the process dies between two slots.
    /// </summary>
    Sharded = 1,
}
