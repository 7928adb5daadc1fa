using System.Globalization;
using StackExchange.Redis;

namespace PolicyEngine.Redis;

/// <summary>
/// An <see cref="IApprovalStore"/> in Redis: an approval granted on one host can be used on any other, exactly once.
/// Each approval is a string key <c>{prefix}a:{sha256}</c> holding its expiry (Unix milliseconds) with a matching time
/// to live; <see cref="TryConsume"/> is one <c>GETDEL</c>, so two hosts can never both consume it. Needs Redis 6.2+.
/// </summary>
public sealed class RedisApprovalStore : IApprovalStore
{
    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <summary>Creates a store over an existing connection (which the caller keeps and disposes).</summary>
    /// <param name="connection">The connection, for example <see cref="RedisCounterStore.Connection"/>.</param>
    /// <param name="options">Key prefix, timeout and clock; copied, so later changes have no effect.</param>
    public RedisApprovalStore(IConnectionMultiplexer connection, RedisApprovalStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new RedisApprovalStoreOptions();
        ArgumentNullException.ThrowIfNull(options.KeyPrefix, nameof(options));
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options));
        RedisStoreConnection.ToMilliseconds(options.Timeout, nameof(options));
        _database = connection.GetDatabase(options.Database);
        _prefix = options.KeyPrefix;
        _timeout = options.Timeout;
        _time = options.TimeProvider;
    }

    /// <inheritdoc/>
    public void Grant(string requestId, DateTimeOffset expiresAt)
    {
        var (key, ttl) = PrepareGrant(requestId, expiresAt);
        if (ttl is { } live)
        {
            _database.StringSet(key, expiresAt.ToUnixTimeMilliseconds(), live);
        }
        else
        {
            _database.KeyDelete(key);
        }
    }

    /// <inheritdoc/>
    public async ValueTask GrantAsync(string requestId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var (key, ttl) = PrepareGrant(requestId, expiresAt);
        if (ttl is { } live)
        {
            await _database.StringSetAsync(key, expiresAt.ToUnixTimeMilliseconds(), live).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _database.KeyDeleteAsync(key).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var value = _database.StringGetDelete(Key(requestId));
        return Interpret(value, now, out expiresAt);
    }

    /// <inheritdoc/>
    public async ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var value = await _database.StringGetDeleteAsync(Key(requestId)).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        var consumed = Interpret(value, now, out var expiresAt);
        return (consumed, expiresAt);
    }

    private (RedisKey Key, TimeSpan? Ttl) PrepareGrant(string requestId, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var ttl = expiresAt - _time.GetUtcNow();
        return (Key(requestId), ttl > TimeSpan.Zero ? ttl : null);
    }

    private RedisKey Key(string requestId) => RedisKeys.Build(_prefix, "a:", requestId);

    private static bool Interpret(RedisValue value, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        expiresAt = default;
        if (value.IsNull || !long.TryParse((string?)value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
        {
            return false;
        }

        expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return now < expiresAt;
    }
}
