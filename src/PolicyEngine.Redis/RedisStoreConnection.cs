using StackExchange.Redis;

namespace PolicyEngine.Redis;

/// <summary>Connection settings suited to a policy store, for hosts that create (and share) their own multiplexer.</summary>
public static class RedisStoreConnection
{
    /// <summary>
    /// Parses a StackExchange.Redis configuration string (<c>host:port,password=…,ssl=true</c>, Sentinel's
    /// <c>serviceName=…</c>, …) and applies what a policy store needs: no abort when the server is down at start
    /// (the multiplexer keeps reconnecting in the background), commands fail at once while disconnected instead of
    /// queueing (a decision must not wait for a server that is gone, nor run late), and every timeout bounded by
    /// <paramref name="timeout"/>.
    /// </summary>
    /// <param name="configuration">The configuration string.</param>
    /// <param name="timeout">The per-command and connect timeout.</param>
    /// <returns>The options, to pass to <see cref="ConnectionMultiplexer.Connect(ConfigurationOptions, TextWriter?)"/>.</returns>
    public static ConfigurationOptions Configure(string configuration, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(configuration);
        var milliseconds = ToMilliseconds(timeout, nameof(timeout));
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.SyncTimeout = milliseconds;
        options.AsyncTimeout = milliseconds;
        options.ConnectTimeout = Math.Max(milliseconds, 1_000);
        options.ConnectRetry = 1;
        return options;
    }

    internal static int ToMilliseconds(TimeSpan timeout, string name)
    {
        if (timeout <= TimeSpan.Zero || timeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(name, timeout, "the timeout must be positive and under 24 days");
        }

        return Math.Max(1, (int)Math.Ceiling(timeout.TotalMilliseconds));
    }
}
