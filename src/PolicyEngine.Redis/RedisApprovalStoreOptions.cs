namespace PolicyEngine.Redis;

/// <summary>Options of a <see cref="RedisApprovalStore"/>; copied and validated when the store is built.</summary>
public sealed class RedisApprovalStoreOptions
{
    /// <summary>Prepended to every approval key (default <c>{policyengine}:</c>, the counter store's default).</summary>
    public string KeyPrefix { get; set; } = "{policyengine}:";

    /// <summary>The most one store call may take (default 1 second); see <see cref="RedisCounterStoreOptions.Timeout"/>.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The Redis database number (default -1: the connection's default database).</summary>
    public int Database { get; set; } = -1;
}
