using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace PolicyEngine.Redis;

/// <summary>
/// An <see cref="ICounterStore"/> in Redis, shared exactly by every process that uses the same server and key prefix.
/// One reservation is one round trip however many counters it names: a Lua script checks every counter and charges all
/// or none atomically; a rollback is one round trip too.
/// </summary>
/// <remarks>
/// <para>Layout: each counter is a hash <c>{prefix}c:{sha256}</c> whose fields are bucket starts (Unix milliseconds)
/// and whose values are counts. Fixed windows use one bucket, sliding windows ten (see <see cref="CounterSlot"/>).
/// Charging deletes buckets more than a window older than anything still counted, and pushes the key's expiry to when
/// its newest bucket stops counting (plus a window and <see cref="RedisCounterStoreOptions.ClockSkewAllowance"/>), so
/// memory stays bounded.</para>
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
/// (<c>(store unavailable)</c> by default). The multiplexer reconnects by itself, and a script cache emptied by a
/// server restart is reloaded on the first NOSCRIPT, so the store recovers without being rebuilt.</para>
/// </remarks>
public sealed class RedisCounterStore : ICounterStore, IDisposable, IAsyncDisposable
{
    private const int ValuesPerRequest = 6;
    private const int HeaderValues = 3;

    /// <summary>How many Redis key names are remembered (then the cache starts over), and up to which counter key length.</summary>
    private const int KeyCacheCapacity = 10_000;
    private const int KeyCacheMaxLength = 512;

    private readonly IConnectionMultiplexer _connection;
    private readonly bool _ownsConnection;
    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly TimeSpan _timeout;
    private readonly long _allowanceMs;
    private readonly long _maxSkewMs;

    // Counter key -> its Redis key as UTF-8 bytes, so that a hot counter is not hashed (SHA-256) and encoded on every call.
    private readonly ConcurrentDictionary<string, RedisKey> _keys = new();
    private int _cachedKeys;

    /// <summary>Creates a store over an existing connection (which the caller keeps and disposes).</summary>
    /// <param name="connection">The connection; <see cref="RedisStoreConnection.Configure"/> gives suitable settings.</param>
    /// <param name="options">Key prefix, timeout and clock settings; copied, so later changes have no effect.</param>
    public RedisCounterStore(IConnectionMultiplexer connection, RedisCounterStoreOptions? options = null)
        : this(connection, options ?? new RedisCounterStoreOptions(), ownsConnection: false)
    {
    }

    private RedisCounterStore(IConnectionMultiplexer connection, RedisCounterStoreOptions options, bool ownsConnection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.KeyPrefix is null || !RedisKeys.HasHashTag(options.KeyPrefix))
        {
            problems.Add($"the key prefix '{options.KeyPrefix}' must contain a non-empty Redis Cluster hash tag, such as '{{policyengine}}:', so that every counter of one reservation maps to one hash slot");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add($"the timeout must be positive and under 24 days, not {options.Timeout}");
        }

        if (options.ClockSkewAllowance < TimeSpan.Zero)
        {
            problems.Add($"the clock skew allowance must not be negative, not {options.ClockSkewAllowance}");
        }

        if (options.MaxClockSkew is { } skew && skew <= TimeSpan.Zero)
        {
            problems.Add($"the maximum clock skew must be positive when set, not {skew}");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        _connection = connection;
        _ownsConnection = ownsConnection;
        _database = connection.GetDatabase(options.Database);
        _prefix = options.KeyPrefix!;
        _timeout = options.Timeout;
        _allowanceMs = (long)options.ClockSkewAllowance.TotalMilliseconds;
        _maxSkewMs = options.MaxClockSkew is { } max ? Math.Max(1, (long)max.TotalMilliseconds) : 0;
    }

    /// <summary>
    /// Connects to Redis with <see cref="RedisStoreConnection.Configure"/> settings and returns a store that owns the
    /// connection (disposing the store closes it). Returns even when the server is down: calls fail until it is up.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, such as <c>127.0.0.1:6379</c>.</param>
    /// <param name="options">Key prefix, timeout and clock settings.</param>
    /// <returns>The store.</returns>
    public static RedisCounterStore Connect(string configuration, RedisCounterStoreOptions? options = null)
    {
        options ??= new RedisCounterStoreOptions();
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

    /// <summary>The connection the store uses (to share with a <see cref="RedisApprovalStore"/>).</summary>
    public IConnectionMultiplexer Connection => _connection;

    /// <summary>The Redis key of a counter: the prefix, <c>c:</c>, and the hex SHA-256 of the counter key's UTF-16 code units.</summary>
    /// <param name="counterKey">A <see cref="CounterRequest.Key"/>.</param>
    /// <returns>The Redis key.</returns>
    public string RedisKeyOf(string counterKey)
    {
        ArgumentNullException.ThrowIfNull(counterKey);
        return RedisKeys.Build(_prefix, "c:", counterKey);
    }

    /// <inheritdoc/>
    public CounterResult Reserve(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: true);

    /// <inheritdoc/>
    public CounterResult Peek(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: false);

    /// <inheritdoc/>
    public async ValueTask<CounterResult> ReserveAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        await RunAsync(requests, now, commit: true, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public async ValueTask<CounterResult> PeekAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        await RunAsync(requests, now, commit: false, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc/>
    public void Release(CounterReservation reservation, DateTimeOffset now)
    {
        if (PrepareRelease(reservation, now) is { } call)
        {
            Evaluate(CounterScripts.Release, call.Keys, call.Values);
        }
    }

    /// <inheritdoc/>
    public async ValueTask ReleaseAsync(CounterReservation reservation, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        if (PrepareRelease(reservation, now) is { } call)
        {
            await EvaluateAsync(CounterScripts.Release, call.Keys, call.Values, cancellationToken).ConfigureAwait(false);
        }
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

    private CounterResult Run(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        var call = Prepare(requests, now, commit);
        if (call.Slots.Length == 0)
        {
            return Empty(commit);
        }

        var result = Evaluate(CounterScripts.Reserve, call.Keys, call.Values);
        return Interpret(result, call, now);
    }

    private async ValueTask<CounterResult> RunAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit, CancellationToken cancellationToken)
    {
        var call = Prepare(requests, now, commit);
        if (call.Slots.Length == 0)
        {
            return Empty(commit);
        }

        var result = await EvaluateAsync(CounterScripts.Reserve, call.Keys, call.Values, cancellationToken).ConfigureAwait(false);
        return Interpret(result, call, now);
    }

    /// <summary>The keys and arguments of the reservation script for <paramref name="requests"/> (for the load console's raw baseline).</summary>
    internal (byte[] ScriptSha1, string ScriptText, RedisKey[] Keys, RedisValue[] Values) ReserveScriptCall(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        var call = Prepare(requests, now, commit: true);
        return (CounterScripts.Reserve.Sha1, CounterScripts.Reserve.Text, call.Keys, call.Values);
    }

    private static CounterResult Empty(bool commit) => CounterResult.Success(commit ? new CounterReservation([]) : null);

    private ReserveCall Prepare(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var count = requests.Count;
        var nowMs = now.ToUnixTimeMilliseconds();
        var slots = new CounterSlot[count];
        var keys = new RedisKey[count];
        var values = new RedisValue[HeaderValues + (count * ValuesPerRequest)];
        values[0] = commit ? 1 : 0;
        values[1] = nowMs;
        values[2] = _maxSkewMs;
        for (var i = 0; i < count; i++)
        {
            var request = requests[i];
            ArgumentNullException.ThrowIfNull(request.Key, nameof(requests));
            ArgumentOutOfRangeException.ThrowIfNegative(request.Amount, nameof(requests));
            var slot = CounterSlot.For(request, nowMs);
            slots[i] = slot;
            keys[i] = KeyOf(request.Key);

            // The key must outlive this charge until the bucket stops counting, plus one more window (a call stamped
            // slightly earlier may still arrive and read it), plus the skew allowance; measured from the server's now.
            var keepUntil = CounterSlot.SaturatingAdd(slot.ExpiresAt, slot.WindowLength);
            var ttl = CounterSlot.SaturatingAdd(Math.Max(1, keepUntil - nowMs), _allowanceMs);
            var at = HeaderValues + (i * ValuesPerRequest);
            values[at] = request.Amount;
            values[at + 1] = request.Max >= long.MinValue + request.Amount ? request.Max - request.Amount : long.MinValue;
            values[at + 2] = slot.BucketStart;
            values[at + 3] = slot.ReadFrom;
            values[at + 4] = slot.ReadFrom - slot.WindowLength;
            values[at + 5] = ttl;
        }

        return new ReserveCall(slots, keys, values, commit);
    }

    private static CounterResult Interpret(RedisResult result, ReserveCall call, DateTimeOffset now)
    {
        if (result.Resp2Type == ResultType.Integer)
        {
            if ((long)result != 1)
            {
                throw new InvalidOperationException("the counter script returned an unexpected reply");
            }

            if (!call.Commit)
            {
                return CounterResult.Success(null);
            }

            var charges = new CounterCharge[call.Slots.Length];
            for (var i = 0; i < charges.Length; i++)
            {
                charges[i] = call.Slots[i].ToCharge();
            }

            return CounterResult.Success(new CounterReservation(charges));
        }

        var reply = (RedisResult[])result!;
        if (reply.Length < 2 || (string?)reply[0] != "0")
        {
            throw new InvalidOperationException("the counter script returned an unexpected reply");
        }

        var index = int.Parse((string)reply[1]!, NumberStyles.None, CultureInfo.InvariantCulture);

        // Stamped behind the horizon (as the in-memory store does): the reply names the horizon before the buckets.
        var horizon = long.MinValue;
        var first = 2;
        if (reply.Length >= 4 && (string?)reply[2] == "h")
        {
            horizon = ParseLong((string)reply[3]!);
            first = 4;
        }

        var buckets = new (long Start, long Count)[(reply.Length - first) / 2];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = (ParseLong((string)reply[first + (2 * i)]!), ParseLong((string)reply[first + 1 + (2 * i)]!));
        }

        return CounterResult.Limited(index, call.Slots[index].RetryAfter(now.ToUnixTimeMilliseconds(), horizon, buckets));
    }

    /// <summary>Parses a stored decimal, saturating at <see cref="long.MaxValue"/> (stored counts never exceed it).</summary>
    private static long ParseLong(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : text.StartsWith('-') ? long.MinValue : long.MaxValue;

    private ReleaseCall? PrepareRelease(CounterReservation reservation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(reservation);
        var nowMs = now.ToUnixTimeMilliseconds();
        var charges = reservation.Charges;
        var live = 0;
        foreach (var charge in charges)
        {
            if (charge.Amount > 0 && nowMs < charge.WindowEnd)
            {
                live++;
            }
        }

        if (live == 0)
        {
            return null;
        }

        var keys = new RedisKey[live];
        var values = new RedisValue[live * 2];
        var i = 0;
        foreach (var charge in charges)
        {
            // A window that is over is left alone: a rollback never touches a later window.
            if (charge.Amount > 0 && nowMs < charge.WindowEnd)
            {
                keys[i] = KeyOf(charge.Key);
                values[2 * i] = charge.Amount;
                values[(2 * i) + 1] = charge.WindowStart;
                i++;
            }
        }

        return new ReleaseCall(keys, values);
    }

    /// <summary>The Redis key of a counter (<see cref="RedisKeyOf"/>), from a bounded cache.</summary>
    private RedisKey KeyOf(string counterKey)
    {
        if (_keys.TryGetValue(counterKey, out var cached))
        {
            return cached;
        }

        RedisKey key = Encoding.UTF8.GetBytes(RedisKeys.Build(_prefix, "c:", counterKey));
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

    /// <summary>EVALSHA; on NOSCRIPT (first use, or the server restarted or flushed its scripts) EVAL, which reloads it.</summary>
    private RedisResult Evaluate(CounterScripts.Script script, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return _database.ScriptEvaluate(script.Sha1, keys, values);
        }
        catch (RedisServerException ex) when (IsNoScript(ex))
        {
            return _database.ScriptEvaluate(script.Text, keys, values);
        }
    }

    private async Task<RedisResult> EvaluateAsync(CounterScripts.Script script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        try
        {
            return await _database.ScriptEvaluateAsync(script.Sha1, keys, values).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (IsNoScript(ex))
        {
            return await _database.ScriptEvaluateAsync(script.Text, keys, values).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static bool IsNoScript(RedisServerException ex) => ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    private sealed record ReserveCall(CounterSlot[] Slots, RedisKey[] Keys, RedisValue[] Values, bool Commit);

    private sealed record ReleaseCall(RedisKey[] Keys, RedisValue[] Values);
}
