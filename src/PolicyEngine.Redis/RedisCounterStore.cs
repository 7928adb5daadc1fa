using System.Collections.Concurrent;
using System.Text;
using StackExchange.Redis;

namespace PolicyEngine.Redis;

/// <summary>
/// An <see cref="ICounterStore"/> in Redis, shared exactly by every process that uses the same server and key prefix.
/// A reservation whose counters share a Redis Cluster hash slot — every reservation in the default single-slot layout —
/// is one round trip however many counters it names: a Lua script checks every counter and charges all or none
/// atomically; a rollback is one round trip too.
/// </summary>
/// <remarks>
/// <para>Layout: each counter is a hash <c>{prefix}c:{sha256}</c> (single-slot layout) or
/// <c>{prefix}c:{{tag}}:{sha256}</c> (sharded layout, see <see cref="RedisCounterLayout"/>) whose fields are bucket
/// starts (Unix milliseconds) and whose values are counts. Fixed windows use one bucket, sliding windows ten (see
/// <see cref="CounterSlot"/>). Charging deletes buckets more than a window older than anything still counted, and
/// pushes the key's expiry to when its newest bucket stops counting (plus a window and
/// <see cref="RedisCounterStoreOptions.ClockSkew"/>), so memory stays bounded.</para>
/// <para>Sharded layout: a reservation whose counters lie in several hash slots reserves them slot by slot, in
/// ascending slot order, each slot atomically; when a slot refuses, what the earlier slots took is returned. A counter
/// never holds more than its max, so no limit is ever exceeded; a process that dies between two slots leaves its
/// earlier charges counted until their windows end (under-admission, bounded by the reservations in flight). See
/// <c>docs/stores.md</c>.</para>
/// <para>Out-of-order callers (hosts and threads whose calls reach Redis in another order than they read their clocks):
/// the script counts what <see cref="CounterSlot.Counts"/> says, so a sliding window also counts buckets newer than its
/// own, and no window-length interval ever holds more than max, whatever the arrival order. Pruned buckets are
/// remembered as the counter's horizon (field <c>h</c>); a call stamped behind it is refused, with a retry-after that
/// waits past it. A whole key expires only a window plus the skew allowance after it stops counting, on the server's
/// clock; see <c>docs/stores.md</c> for a call that lags longer than that.</para>
/// <para>Clock: windows are computed from the <c>now</c> the evaluator passes (its <see cref="TimeProvider"/>), so every
/// host must keep its clock synchronized (NTP). Expiry is set on the server's clock as a time to live, so a skewed
/// host never makes Redis drop a bucket early.</para>
/// <para>Faults: a timeout, a lost connection or a server error throws; the evaluator turns it into its fail mode
/// (<c>(store unavailable)</c> by default). The multiplexer reconnects by itself, follows Redis Cluster redirections
/// (<c>MOVED</c>, <c>ASK</c>), a script cache emptied by a server restart is reloaded on the first NOSCRIPT, and a
/// <c>TRYAGAIN</c> during a slot migration is retried within the timeout, so the store recovers without being rebuilt.</para>
/// </remarks>
public sealed partial class RedisCounterStore : CounterStore, IDisposable, IAsyncDisposable
{
    /// <summary>How many Redis key names are remembered (then the cache starts over), and up to which counter key length.</summary>
    private const int KeyCacheCapacity = 10_000;
    private const int KeyCacheMaxLength = 512;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly bool _sharded;
    private readonly int _prefixSlot;
    private readonly TimeSpan _timeout;
    private readonly long _allowanceMs;
    private readonly long _maxSkewMs;

    // Counter key -> its Redis key as UTF-8 bytes and its hash slot, so that a hot counter is not hashed (SHA-256) and
    // encoded on every call.
    private readonly ConcurrentDictionary<string, StoredKey> _keys = new();
    private int _cachedKeys;

    /// <summary>Creates a store over an existing connection (which the caller keeps and disposes).</summary>
    /// <param name="connection">The connection; <see cref="RedisStoreConnection.Configure"/> gives suitable settings.</param>
    /// <param name="options">Layout, key prefix, timeout and clock settings; validated and copied, so later changes have no effect.</param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public RedisCounterStore(IConnectionMultiplexer connection, RedisCounterStoreOptions? options = null)
        : this(connection, options ?? new RedisCounterStoreOptions(), ownsConnection: false)
    {
    }

    private RedisCounterStore(IConnectionMultiplexer connection, RedisCounterStoreOptions options, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options).ThrowIfAny();
        var sharded = options.Layout == RedisCounterLayout.Sharded;
        var prefix = PrefixOf(options);
        _connection = connection;
        _ownsConnection = ownsConnection;
        _database = connection.GetDatabase(options.Database);
        _prefix = prefix;
        _sharded = sharded;
        _prefixSlot = sharded ? -1 : RedisKeys.KeySlot(Encoding.UTF8.GetBytes(prefix));
        _timeout = options.Timeout;
        _allowanceMs = (long)options.ClockSkew.TotalMilliseconds;
        _maxSkewMs = options.EnforceClockSkew ? Math.Max(1, _allowanceMs) : 0;
    }

    /// <summary>
    /// Connects to Redis with <see cref="RedisStoreConnection.Configure"/> settings and returns a store that owns the
    /// connection (disposing the store closes it). Returns even when the server is down: calls fail until it is up.
    /// </summary>
    /// <param name="configuration">
    /// A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c>, or for Redis Cluster some or all of
    /// its primaries, <c>10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379</c> (the multiplexer discovers the rest).
    /// </param>
    /// <param name="options">Layout, key prefix, timeout and clock settings; validated before connecting.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public static RedisCounterStore Connect(string configuration, RedisCounterStoreOptions? options = null)
    {
        options ??= new RedisCounterStoreOptions();
        Validate(options).ThrowIfAny();
        var settings = RedisStoreConnection.Configure(configuration, options.Timeout);
        var connection = ConnectionMultiplexer.Connect(settings);
        try
        {
            return new RedisCounterStore(connection, options, ownsConnection: true);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>The key prefix in force: <see cref="RedisCounterStoreOptions.KeyPrefix"/>, or the layout's default.</summary>
    private static string PrefixOf(RedisCounterStoreOptions options) =>
        options.KeyPrefix ?? (options.Layout == RedisCounterLayout.Sharded ? RedisCounterStoreOptions.DefaultShardedPrefix : RedisCounterStoreOptions.DefaultSingleSlotPrefix);

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(RedisCounterStoreOptions options)
    {
        var problems = new OptionsProblems(nameof(RedisCounterStoreOptions));
        var prefix = PrefixOf(options);
        if (options.Layout is not (RedisCounterLayout.SingleSlot or RedisCounterLayout.Sharded))
        {
            problems.Add(nameof(options.Layout), $"'{options.Layout}' is unknown: use SingleSlot or Sharded");
        }
        else if (options.Layout == RedisCounterLayout.Sharded && prefix.AsSpan().IndexOfAny('{', '}') >= 0)
        {
            problems.Add(nameof(options.KeyPrefix), $"'{prefix}' must not contain '{{' or '}}' in the sharded layout, which adds each counter's own hash tag after it; use, for example, '{RedisCounterStoreOptions.DefaultShardedPrefix}'");
        }
        else if (options.Layout == RedisCounterLayout.SingleSlot && !RedisKeys.HasHashTag(prefix))
        {
            problems.Add(nameof(options.KeyPrefix), $"'{prefix}' must contain a non-empty Redis Cluster hash tag, such as '{RedisCounterStoreOptions.DefaultSingleSlotPrefix}', so that every counter of one reservation maps to one hash slot (or choose the sharded layout)");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add(nameof(options.Timeout), $"must be positive and under 24 days (it is {options.Timeout})");
        }

        if (options.ClockSkew < TimeSpan.Zero)
        {
            problems.Add(nameof(options.ClockSkew), $"must not be negative (it is {options.ClockSkew})");
        }
        else if (options.EnforceClockSkew && options.ClockSkew == TimeSpan.Zero)
        {
            problems.Add(nameof(options.ClockSkew), "must be positive when EnforceClockSkew is set (it is 00:00:00)");
        }

        if (options.Database < -1)
        {
            problems.Add(nameof(options.Database), $"must be -1 (the connection's default) or a database number (it is {options.Database})");
        }

        return problems;
    }

    /// <summary>The connection the store uses (to share with a <see cref="RedisApprovalStore"/>).</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>The layout the store was built with.</summary>
    public RedisCounterLayout Layout => _sharded ? RedisCounterLayout.Sharded : RedisCounterLayout.SingleSlot;

    /// <summary>
    /// The Redis key of a counter: the prefix, <c>c:</c>, in the sharded layout the counter's hash tag in braces and a
    /// <c>:</c>, and the hex SHA-256 of the counter key's UTF-16 code units.
    /// </summary>
    /// <param name="counterKey">A <see cref="CounterRequest.Key"/>.</param>
    /// <returns>The Redis key.</returns>
    internal string RedisKeyOf(string counterKey)
    {
        ArgumentNullException.ThrowIfNull(counterKey);
        return _sharded ? RedisKeys.BuildSharded(_prefix, counterKey).Key : RedisKeys.Build(_prefix, "c:", counterKey);
    }

    /// <summary>The Redis Cluster hash slot (0 to 16,383) that holds a counter.</summary>
    /// <param name="counterKey">A <see cref="CounterRequest.Key"/>.</param>
    /// <returns>The slot: in the single-slot layout the prefix's, in the sharded layout the counter's own.</returns>
    internal int HashSlotOf(string counterKey)
    {
        ArgumentNullException.ThrowIfNull(counterKey);
        return _sharded ? RedisKeys.BuildSharded(_prefix, counterKey).Slot : _prefixSlot;
    }

    /// <inheritdoc/>
    protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: true);

    /// <inheritdoc/>
    protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: false);

    /// <inheritdoc/>
    protected override ValueTask<CounterResult> ReserveCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(requests, now, commit: true, cancellationToken);

    /// <inheritdoc/>
    protected override ValueTask<CounterResult> PeekCoreAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken) =>
        RunAsync(requests, now, commit: false, cancellationToken);

    /// <inheritdoc/>
    protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now)
    {
        if (PrepareRelease(reservation, now) is not { } call)
        {
            return;
        }

        if (call.Groups is null)
        {
            Evaluate(CounterScripts.Release, call.Keys, call.Values);
            return;
        }

        ReleaseAcrossSlots(call);
    }

    /// <inheritdoc/>
    protected override ValueTask ReleaseCoreAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (PrepareRelease(reservation, now) is not { } call)
        {
            return ValueTask.CompletedTask;
        }

        return call.Groups is null
            ? new ValueTask(EvaluateAsync(CounterScripts.Release, call.Keys, call.Values, cancellationToken))
            : ReleaseAcrossSlotsAsync(call, cancellationToken);
    }

    /// <summary>Disposes the connection when the store created it (<see cref="Connect"/>); otherwise does nothing.</summary>
    public void Dispose()
    {
        if (_ownsConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>Disposes the connection when the store created it (<see cref="Connect"/>); otherwise does nothing.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_ownsConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The Redis key and hash slot of a counter (<see cref="RedisKeyOf"/>), from a bounded cache.</summary>
    private StoredKey KeyOf(string counterKey)
    {
        if (_keys.TryGetValue(counterKey, out var cached))
        {
            return cached;
        }

        StoredKey key;
        if (_sharded)
        {
            var (name, slot) = RedisKeys.BuildSharded(_prefix, counterKey);
            key = new StoredKey(Encoding.UTF8.GetBytes(name), slot);
        }
        else
        {
            key = new StoredKey(Encoding.UTF8.GetBytes(RedisKeys.Build(_prefix, "c:", counterKey)), _prefixSlot);
        }

        if (counterKey.Length <= KeyCacheMaxLength)
        {
            // Bounded: past the capacity the cache starts over (hot keys come back at once; memory never grows).
            if (Interlocked.Increment(ref _cachedKeys) > KeyCacheCapacity)
            {
                _keys.Clear();
                Interlocked.Exchange(ref _cachedKeys, 1);
            }

            _keys.TryAdd(counterKey, key);
        }

        return key;
    }

    /// <summary>A counter's Redis key (UTF-8) and its hash slot.</summary>
    private readonly record struct StoredKey(RedisKey Key, int Slot);
}
