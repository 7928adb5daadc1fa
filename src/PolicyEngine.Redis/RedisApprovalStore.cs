using System.Globalization;
using StackExchange.Redis;

namespace PolicyEngine.Redis;

/// <summary>
/// An <see cref="IApprovalQueue"/> in Redis: requests, their history and given approvals are shared by every host on
/// the server, and an approval given through one host is used once, by any. Needs Redis 6.2+.
/// </summary>
/// <remarks>
/// <para>Keys (each name ends in the SHA-256 of the caller's id, see <c>RedisKeys</c>): <c>{prefix}a:…</c> a given
/// approval, holding its expiry in Unix milliseconds with a matching time to live — <see cref="TryConsume"/> is one
/// <c>GETDEL</c>, so two hosts can never both consume it; <c>{prefix}q:r:…</c> a request's JSON
/// (<see cref="PendingApproval.ToJson"/>); <c>{prefix}q:f:…</c> the request waiting for a call's fingerprint;
/// <c>{prefix}q:index</c> a sorted set of request ids by creation time. Requests live until
/// <see cref="HistoryRetention"/> after they expire.</para>
/// <para>A vote is an optimistic transaction (<c>WATCH</c>-style condition on the request's JSON, retried on conflict),
/// so of concurrent votes from any hosts each sees the one before: exactly one of a racing approve and deny wins. The
/// transaction spans several keys, so on Redis Cluster the prefix must carry a hash tag (the default does).</para>
/// <para>Times come from the caller (the evaluator's clock) for every call; the store holds no clock.</para>
/// </remarks>
public sealed class RedisApprovalStore : IApprovalQueue
{
    /// <summary>How long a request stays in the history after it expires.</summary>
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromDays(7);

    private const int MaxScan = 10_000;
    private const int MaxAttempts = 32;

    private readonly IDatabase _database;
    private readonly string _prefix;
    private readonly TimeSpan _timeout;
    private readonly RedisKey _index;

    /// <summary>Creates a store over an existing connection (which the caller keeps and disposes).</summary>
    /// <param name="connection">The connection, for example <see cref="RedisCounterStore.Connection"/>.</param>
    /// <param name="options">Key prefix, timeout and database; validated and copied, so later changes have no effect.</param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public RedisApprovalStore(IConnectionMultiplexer connection, RedisApprovalStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        options ??= new RedisApprovalStoreOptions();
        Validate(options).ThrowIfAny();
        _database = connection.GetDatabase(options.Database);
        _prefix = options.KeyPrefix!;
        _timeout = options.Timeout;
        _index = _prefix + "q:index";
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(RedisApprovalStoreOptions options)
    {
        var problems = new OptionsProblems(nameof(RedisApprovalStoreOptions));
        if (options.KeyPrefix is null)
        {
            problems.Add(nameof(options.KeyPrefix), "must be set (the default is '{policyengine}:')");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add(nameof(options.Timeout), $"must be positive and under 24 days (it is {options.Timeout})");
        }

        if (options.Database < -1)
        {
            problems.Add(nameof(options.Database), $"must be -1 (the connection's default) or a database number (it is {options.Database})");
        }

        return problems;
    }

    /// <inheritdoc/>
    public void Approve(string requestId, DateTimeOffset now, DateTimeOffset expiresAt) =>
        Wait(ApproveAsync(requestId, now, expiresAt).AsTask());

    /// <inheritdoc/>
    public async ValueTask ApproveAsync(string requestId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var key = GrantKey(requestId);
        var ttl = expiresAt - now;
        if (ttl <= TimeSpan.Zero)
        {
            await Bound(_database.KeyDeleteAsync(key), cancellationToken).ConfigureAwait(false);
            return;
        }

        await Bound(_database.StringSetAsync(key, expiresAt.ToUnixTimeMilliseconds(), ttl), cancellationToken).ConfigureAwait(false);

        // A restored approval (its call could not run after all) makes its request usable again.
        await RestatusAsync(requestId, ApprovalStatus.Consumed, ApprovalStatus.Approved, now, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        var (consumed, at) = Wait(TryConsumeAsync(requestId, now).AsTask());
        expiresAt = at;
        return consumed;
    }

    /// <inheritdoc/>
    public async ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var value = await Bound(_database.StringGetDeleteAsync(GrantKey(requestId)), cancellationToken).ConfigureAwait(false);
        if (value.IsNull || !long.TryParse((string?)value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
        {
            return (false, default);
        }

        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (now >= expiresAt)
        {
            return (false, expiresAt);
        }

        try
        {
            await RestatusAsync(requestId, ApprovalStatus.Approved, ApprovalStatus.Consumed, now, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not OperationCanceledException)
        {
            // The approval is used up (GETDEL) and the call may run: only the history's status lags. Failing here
            // would lose the approval without running the call.
        }

        return (true, expiresAt);
    }

    /// <inheritdoc/>
    public async ValueTask<PendingApproval> SubmitAsync(PendingApproval request, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fingerprintKey = FingerprintKey(request.Fingerprint);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var waitingId = await Bound(_database.StringGetAsync(fingerprintKey), cancellationToken).ConfigureAwait(false);
            if (!waitingId.IsNull)
            {
                var existing = await GetAsync(waitingId!, now, cancellationToken).ConfigureAwait(false);
                if (existing is not null && existing.StatusAt(now) == ApprovalStatus.Pending)
                {
                    return existing;
                }
            }

            var live = LiveFor(request, now);
            var transaction = _database.CreateTransaction();
            transaction.AddCondition(waitingId.IsNull ? Condition.KeyNotExists(fingerprintKey) : Condition.StringEqual(fingerprintKey, waitingId));
            transaction.AddCondition(Condition.KeyNotExists(RequestKey(request.Id)));
            _ = transaction.StringSetAsync(RequestKey(request.Id), request.ToJson(), live);
            _ = transaction.StringSetAsync(fingerprintKey, request.Id, live);
            _ = transaction.SortedSetAddAsync(_index, request.Id, request.CreatedAt.ToUnixTimeMilliseconds());
            _ = transaction.SortedSetRemoveRangeByScoreAsync(_index, double.NegativeInfinity, (now - HistoryRetention - HistoryRetention).ToUnixTimeMilliseconds());
            if (await Bound(transaction.ExecuteAsync(), cancellationToken).ConfigureAwait(false))
            {
                return request;
            }
        }

        throw new InvalidOperationException("the approval request could not be stored: too many concurrent submissions for the same call");
    }

    /// <inheritdoc/>
    public async ValueTask<PendingApproval?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var json = await Bound(_database.StringGetAsync(RequestKey(id)), cancellationToken).ConfigureAwait(false);
        return json.IsNull ? null : PendingApproval.FromJson(json!);
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<PendingApproval>> ListAsync(ApprovalQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        var ids = await Bound(_database.SortedSetRangeByRankAsync(_index, 0, MaxScan - 1, Order.Descending), cancellationToken).ConfigureAwait(false);
        var matching = new List<PendingApproval>();
        const int Batch = 256;
        for (var start = 0; start < ids.Length; start += Batch)
        {
            var keys = new RedisKey[Math.Min(Batch, ids.Length - start)];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = RequestKey(ids[start + i]!);
            }

            foreach (var json in await Bound(_database.StringGetAsync(keys), cancellationToken).ConfigureAwait(false))
            {
                if (!json.IsNull && PendingApproval.FromJson(json!) is { } request && query.Matches(request, now))
                {
                    matching.Add(request);
                }
            }
        }

        matching.Sort(static (a, b) =>
        {
            var byTime = b.CreatedAt.CompareTo(a.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        return [.. matching.Skip(query.Offset).Take(query.Limit)];
    }

    /// <inheritdoc/>
    public async ValueTask<ApprovalResult> DecideAsync(string id, ApprovalVote vote, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(vote);
        var key = RequestKey(id);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var json = await Bound(_database.StringGetAsync(key), cancellationToken).ConfigureAwait(false);
            if (json.IsNull)
            {
                return new ApprovalResult(ApprovalOutcome.NotFound, null, changed: false);
            }

            var result = PendingApproval.FromJson(json!).Decide(vote, now);
            if (!result.Changed)
            {
                return result;
            }

            var after = result.Request!;
            var transaction = _database.CreateTransaction();
            transaction.AddCondition(Condition.StringEqual(key, json));
            _ = transaction.StringSetAsync(key, after.ToJson(), LiveFor(after, now));
            if (result.Outcome == ApprovalOutcome.Approved)
            {
                var expiresAt = now + after.TimeToLive;
                _ = transaction.StringSetAsync(GrantKey(after.Fingerprint), expiresAt.ToUnixTimeMilliseconds(), after.TimeToLive);
                _ = transaction.StringSetAsync(FingerprintKey(after.Fingerprint), after.Id, LiveFor(after, now));
            }

            if (await Bound(transaction.ExecuteAsync(), cancellationToken).ConfigureAwait(false))
            {
                return result;
            }

            // Another vote changed the request first: decide again on what it left.
        }

        throw new InvalidOperationException("the vote could not be stored: too many concurrent votes on the same request");
    }

    /// <summary>Moves the request for <paramref name="fingerprint"/> from one status to another, if it is in the first.</summary>
    private async ValueTask RestatusAsync(string fingerprint, ApprovalStatus from, ApprovalStatus to, DateTimeOffset now, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var id = await Bound(_database.StringGetAsync(FingerprintKey(fingerprint)), cancellationToken).ConfigureAwait(false);
            if (id.IsNull)
            {
                return;
            }

            var key = RequestKey(id!);
            var json = await Bound(_database.StringGetAsync(key), cancellationToken).ConfigureAwait(false);
            if (json.IsNull)
            {
                return;
            }

            var request = PendingApproval.FromJson(json!);
            if (request.Status != from)
            {
                return;
            }

            var changed = request.WithStatus(to);
            var transaction = _database.CreateTransaction();
            transaction.AddCondition(Condition.StringEqual(key, json));
            _ = transaction.StringSetAsync(key, changed.ToJson(), LiveFor(changed, now));
            if (await Bound(transaction.ExecuteAsync(), cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>How long a request's keys live: until the end of its history.</summary>
    private static TimeSpan LiveFor(PendingApproval request, DateTimeOffset now)
    {
        var live = request.ExpiresAt + request.TimeToLive + HistoryRetention - now;
        return live > TimeSpan.FromSeconds(1) ? live : TimeSpan.FromSeconds(1);
    }

    private RedisKey GrantKey(string fingerprint) => RedisKeys.Build(_prefix, "a:", fingerprint);

    private RedisKey RequestKey(string id) => RedisKeys.Build(_prefix, "q:r:", id);

    private RedisKey FingerprintKey(string fingerprint) => RedisKeys.Build(_prefix, "q:f:", fingerprint);

    private async Task<T> Bound<T>(Task<T> task, CancellationToken cancellationToken) =>
        await task.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);

    private async Task Bound(Task task, CancellationToken cancellationToken) =>
        await task.WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);

    private static void Wait(Task task) => task.GetAwaiter().GetResult();

    private static T Wait<T>(Task<T> task) => task.GetAwaiter().GetResult();
}
