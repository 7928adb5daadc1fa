using Microsoft.Data.Sqlite;

namespace PolicyEngine.Sqlite;

/// <summary>
/// An <see cref="IApprovalQueue"/> in a SQLite file: pending requests, their history and given approvals survive
/// restarts and are shared by the processes of one host. Every change is one <c>BEGIN IMMEDIATE</c> transaction, so
/// of concurrent votes (from any process) each sees the one before: an approve and a deny racing on one request cannot
/// both succeed, and an approval is consumed once. Requests are kept for <see cref="HistoryRetention"/> after they
/// expire, then purged.
/// </summary>
public sealed class SqliteApprovalStore : IApprovalQueue, IDisposable
{
    /// <summary>How long a request stays in the history after it expires.</summary>
    public static readonly TimeSpan HistoryRetention = TimeSpan.FromDays(7);

    /// <summary>The most rows a list scans (newest first) before filtering by status.</summary>
    private const int MaxScan = 10_000;

    private const string Schema = """
        CREATE TABLE IF NOT EXISTS approval_requests (
          id TEXT PRIMARY KEY,
          fingerprint TEXT NOT NULL,
          tool TEXT NOT NULL,
          identity TEXT NOT NULL,
          status TEXT NOT NULL,
          created_ms INTEGER NOT NULL,
          expires_ms INTEGER NOT NULL,
          purge_ms INTEGER NOT NULL,
          json TEXT NOT NULL
        ) STRICT;
        CREATE INDEX IF NOT EXISTS approval_requests_by_fingerprint ON approval_requests (fingerprint, status);
        CREATE INDEX IF NOT EXISTS approval_requests_by_created ON approval_requests (created_ms DESC, id);
        CREATE TABLE IF NOT EXISTS approval_grants (
          fingerprint TEXT PRIMARY KEY,
          expires_ms INTEGER NOT NULL
        ) STRICT;
        """;

    private readonly string _connectionString;

    /// <summary>Opens (creating if needed) the approval tables in the SQLite file at <paramref name="path"/>.</summary>
    /// <param name="path">The database file; it may be the counter store's file.</param>
    /// <param name="busyTimeout">How long a write waits for another process's transaction (default 5 s).</param>
    public SqliteApprovalStore(string path, TimeSpan? busyTimeout = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var busy = busyTimeout ?? TimeSpan.FromSeconds(5);
        if (busy <= TimeSpan.Zero || busy > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(busyTimeout), busy, "the busy timeout must be positive and at most a day");
        }

        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = (int)Math.Ceiling(busy.TotalSeconds),
        }.ToString();
        using var connection = Open();
        Execute(connection, null, "PRAGMA journal_mode = WAL");
        Execute(connection, null, Schema);
    }

    /// <summary>The database file's full path.</summary>
    public string Path { get; }

    /// <inheritdoc/>
    public void Approve(string requestId, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        if (now >= expiresAt)
        {
            Execute(connection, transaction, "DELETE FROM approval_grants WHERE fingerprint = $fp", ("$fp", requestId));
        }
        else
        {
            Execute(connection, transaction, "INSERT INTO approval_grants (fingerprint, expires_ms) VALUES ($fp, $exp) ON CONFLICT (fingerprint) DO UPDATE SET expires_ms = excluded.expires_ms", ("$fp", requestId), ("$exp", expiresAt.ToUnixTimeMilliseconds()));

            // A restored approval (its call could not run after all) makes its request usable again.
            Restatus(connection, transaction, requestId, ApprovalStatus.Consumed, ApprovalStatus.Approved);
        }

        transaction.Commit();
    }

    /// <inheritdoc/>
    public bool TryConsume(string requestId, DateTimeOffset now, out DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        expiresAt = default;
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        using var command = Command(connection, transaction, "DELETE FROM approval_grants WHERE fingerprint = $fp RETURNING expires_ms", ("$fp", requestId));
        var value = command.ExecuteScalar();
        if (value is not long ms)
        {
            transaction.Commit();
            return false;
        }

        expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        var consumed = now < expiresAt;
        if (consumed)
        {
            Restatus(connection, transaction, requestId, ApprovalStatus.Approved, ApprovalStatus.Consumed);
        }

        transaction.Commit();
        return consumed;
    }

    /// <inheritdoc/>
    public ValueTask ApproveAsync(string requestId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Approve(requestId, now, expiresAt);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public ValueTask<(bool Consumed, DateTimeOffset ExpiresAt)> TryConsumeAsync(string requestId, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var consumed = TryConsume(requestId, now, out var expiresAt);
        return ValueTask.FromResult((consumed, expiresAt));
    }

    /// <inheritdoc/>
    public ValueTask<PendingApproval> SubmitAsync(PendingApproval request, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        Execute(connection, transaction, "DELETE FROM approval_requests WHERE purge_ms <= $now", ("$now", now.ToUnixTimeMilliseconds()));
        Execute(connection, transaction, "DELETE FROM approval_grants WHERE expires_ms <= $now", ("$now", now.ToUnixTimeMilliseconds()));
        using (var find = Command(connection, transaction, "SELECT json FROM approval_requests WHERE fingerprint = $fp AND status = 'pending' AND expires_ms > $now ORDER BY created_ms DESC LIMIT 1", ("$fp", request.Fingerprint), ("$now", now.ToUnixTimeMilliseconds())))
        {
            if (find.ExecuteScalar() is string json)
            {
                var existing = PendingApproval.FromJson(json);
                if (existing.StatusAt(now) == ApprovalStatus.Pending)
                {
                    transaction.Commit();
                    return ValueTask.FromResult(existing);
                }
            }
        }

        Execute(
            connection,
            transaction,
            "INSERT INTO approval_requests (id, fingerprint, tool, identity, status, created_ms, expires_ms, purge_ms, json) VALUES ($id, $fp, $tool, $identity, $status, $created, $expires, $purge, $json)",
            ("$id", request.Id),
            ("$fp", request.Fingerprint),
            ("$tool", request.Tool),
            ("$identity", request.IdentityId),
            ("$status", PendingApproval.StatusName(request.Status)),
            ("$created", request.CreatedAt.ToUnixTimeMilliseconds()),
            ("$expires", request.ExpiresAt.ToUnixTimeMilliseconds()),
            ("$purge", PurgeAt(request)),
            ("$json", request.ToJson()));
        transaction.Commit();
        return ValueTask.FromResult(request);
    }

    /// <inheritdoc/>
    public ValueTask<PendingApproval?> GetAsync(string id, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var command = Command(connection, null, "SELECT json FROM approval_requests WHERE id = $id", ("$id", id));
        return ValueTask.FromResult(command.ExecuteScalar() is string json ? PendingApproval.FromJson(json) : null);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<PendingApproval>> ListAsync(ApprovalQuery query, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var command = Command(
            connection,
            null,
            "SELECT json FROM approval_requests WHERE ($tool IS NULL OR tool = $tool) AND ($identity IS NULL OR identity = $identity) ORDER BY created_ms DESC, id LIMIT $scan",
            ("$tool", query.Tool),
            ("$identity", query.IdentityId),
            ("$scan", MaxScan));
        var matching = new List<PendingApproval>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var request = PendingApproval.FromJson(reader.GetString(0));
                if (query.Matches(request, now))
                {
                    matching.Add(request);
                }
            }
        }

        // Created times are kept to 100 ns in the JSON but to 1 ms in the index: order exactly here.
        matching.Sort(static (a, b) =>
        {
            var byTime = b.CreatedAt.CompareTo(a.CreatedAt);
            return byTime != 0 ? byTime : string.CompareOrdinal(a.Id, b.Id);
        });
        IReadOnlyList<PendingApproval> page = [.. matching.Skip(query.Offset).Take(query.Limit)];
        return ValueTask.FromResult(page);
    }

    /// <inheritdoc/>
    public ValueTask<ApprovalResult> DecideAsync(string id, ApprovalVote vote, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(vote);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        string? json;
        using (var read = Command(connection, transaction, "SELECT json FROM approval_requests WHERE id = $id", ("$id", id)))
        {
            json = read.ExecuteScalar() as string;
        }

        if (json is null)
        {
            transaction.Commit();
            return ValueTask.FromResult(new ApprovalResult(ApprovalOutcome.NotFound, null, changed: false));
        }

        var result = PendingApproval.FromJson(json).Decide(vote, now);
        if (result.Changed)
        {
            Save(connection, transaction, result.Request!);
            if (result.Outcome == ApprovalOutcome.Approved)
            {
                Execute(connection, transaction, "INSERT INTO approval_grants (fingerprint, expires_ms) VALUES ($fp, $exp) ON CONFLICT (fingerprint) DO UPDATE SET expires_ms = excluded.expires_ms", ("$fp", result.Request!.Fingerprint), ("$exp", (now + result.Request.TimeToLive).ToUnixTimeMilliseconds()));
            }
        }

        transaction.Commit();
        return ValueTask.FromResult(result);
    }

    /// <summary>Nothing is held open between calls (connections are pooled); kept for symmetry with the counter store.</summary>
    public void Dispose()
    {
    }

    private static long PurgeAt(PendingApproval request) => (request.ExpiresAt + request.TimeToLive + HistoryRetention).ToUnixTimeMilliseconds();

    /// <summary>Moves the newest request for <paramref name="fingerprint"/> from one status to another.</summary>
    private static void Restatus(SqliteConnection connection, SqliteTransaction transaction, string fingerprint, ApprovalStatus from, ApprovalStatus to)
    {
        string? json;
        using (var read = Command(connection, transaction, "SELECT json FROM approval_requests WHERE fingerprint = $fp AND status = $status ORDER BY created_ms DESC LIMIT 1", ("$fp", fingerprint), ("$status", PendingApproval.StatusName(from))))
        {
            json = read.ExecuteScalar() as string;
        }

        if (json is not null)
        {
            Save(connection, transaction, PendingApproval.FromJson(json).WithStatus(to));
        }
    }

    private static void Save(SqliteConnection connection, SqliteTransaction transaction, PendingApproval request) =>
        Execute(connection, transaction, "UPDATE approval_requests SET status = $status, json = $json WHERE id = $id", ("$status", PendingApproval.StatusName(request.Status)), ("$json", request.ToJson()), ("$id", request.Id));

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }
}
