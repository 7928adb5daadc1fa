using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace PolicyEngine.Sqlite;

// The store, part 2 of 2: what a reservation reads (buckets, ledger) and the pooled connections with their prepared
// statements (lease, session). Code moved unchanged from SqliteCounterStore.cs.
public sealed partial class SqliteCounterStore
{
    private readonly record struct Bucket(long Start, long Count);

    /// <summary>A counter's buckets and horizon as read in the current transaction.</summary>
    private sealed class Ledger(List<Bucket> buckets, long horizon)
    {
        public List<Bucket> Buckets { get; } = buckets;

        public long Horizon { get; set; } = horizon;
    }

    /// <summary>A rented session: returned to the pool on dispose, or closed when an error left it in doubt.</summary>
    private sealed class Lease(SqliteCounterStore owner, Session session) : IDisposable
    {
        private bool _poisoned;

        public Session Session => session;

        public void Poison() => _poisoned = true;

        public void Dispose()
        {
            if (_poisoned)
            {
                session.Dispose();
            }
            else
            {
                owner.Return(session);
            }
        }
    }

    /// <summary>One open connection with its prepared statements; used by one thread at a time.</summary>
    private sealed class Session : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly SqliteCommand _beginImmediate;
        private readonly SqliteCommand _beginDeferred;
        private readonly SqliteCommand _commit;
        private readonly SqliteCommand _select;
        private readonly SqliteCommand _upsert;
        private readonly SqliteCommand _upsertCounter;
        private readonly SqliteCommand _deleteBucket;
        private readonly SqliteCommand _refund;
        private readonly SqliteCommand _deleteExpired;
        private bool _inTransaction;

        public Session(string connectionString, int busyMs, bool synchronousFull)
        {
            _connection = new SqliteConnection(connectionString);
            try
            {
                _connection.Open();
                Execute($"PRAGMA busy_timeout = {busyMs}");
                Execute("PRAGMA journal_mode = WAL");
                Execute(synchronousFull ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                _beginImmediate = Command("BEGIN IMMEDIATE");
                _beginDeferred = Command("BEGIN DEFERRED");
                _commit = Command("COMMIT");
                _select = null!;
                _upsert = null!;
                _upsertCounter = null!;
                _deleteBucket = null!;
                _refund = null!;
                _deleteExpired = null!;
                EnsureSchema();
                _select = Command(
                    """
                    SELECT 0, bucket_start, count FROM pe_counter_buckets WHERE key_hash = $key
                    UNION ALL SELECT 1, horizon, 0 FROM pe_counters WHERE key_hash = $key
                    UNION ALL SELECT 1, horizon, 0 FROM pe_swept WHERE window_ms = $window
                    """,
                    "$key",
                    "$window");
                _upsertCounter = Command(
                    """
                    INSERT INTO pe_counters (key_hash, horizon, purge_at, window_ms) VALUES ($key, $horizon, $purge, $window)
                    ON CONFLICT (key_hash) DO UPDATE SET horizon = max(horizon, excluded.horizon), purge_at = max(purge_at, excluded.purge_at), window_ms = excluded.window_ms
                    """,
                    "$key",
                    "$horizon",
                    "$purge",
                    "$window");
                _deleteBucket = Command("DELETE FROM pe_counter_buckets WHERE key_hash = $key AND bucket_start = $start", "$key", "$start");
                _upsert = Command(
                    """
                    INSERT INTO pe_counter_buckets (key_hash, bucket_start, count, purge_at) VALUES ($key, $start, $count, $purge)
                    ON CONFLICT (key_hash, bucket_start) DO UPDATE SET count = excluded.count, purge_at = max(purge_at, excluded.purge_at)
                    """,
                    "$key",
                    "$start",
                    "$count",
                    "$purge");
                _refund = Command(
                    "UPDATE pe_counter_buckets SET count = max(0, count - $amount) WHERE key_hash = $key AND bucket_start = $start",
                    "$key",
                    "$start",
                    "$amount");
                // Before forgetting buckets, remember per window length the newest start forgotten: a call stamped so
                // far back that it would count one of them is then refused (as behind a counter's own horizon).
                _deleteExpired = Command(
                    """
                    INSERT INTO pe_swept (window_ms, horizon)
                    SELECT c.window_ms, max(b.bucket_start) FROM pe_counter_buckets b JOIN pe_counters c ON c.key_hash = b.key_hash
                    WHERE b.purge_at <= $now AND c.window_ms > 0 GROUP BY c.window_ms
                    ON CONFLICT (window_ms) DO UPDATE SET horizon = max(horizon, excluded.horizon);
                    DELETE FROM pe_counter_buckets WHERE purge_at <= $now;
                    DELETE FROM pe_counters WHERE purge_at <= $now;
                    """,
                    "$now");
            }
            catch
            {
                _connection.Dispose();
                throw;
            }
        }

        public SqliteConnection Connection => _connection;

        private void EnsureSchema()
        {
            // Already there (the usual case): no write lock needed to open a connection.
            using (var check = _connection.CreateCommand())
            {
                check.CommandText = "PRAGMA user_version";
                if ((long)check.ExecuteScalar()! >= SchemaVersion)
                {
                    return;
                }
            }

            // Idempotent, so every process (and every new connection) may run it; BEGIN IMMEDIATE serializes creators.
            Execute("BEGIN IMMEDIATE");
            try
            {
                Execute(
                    """
                    CREATE TABLE IF NOT EXISTS pe_counter_buckets (
                        key_hash BLOB NOT NULL,
                        bucket_start INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        purge_at INTEGER NOT NULL,
                        PRIMARY KEY (key_hash, bucket_start)
                    ) WITHOUT ROWID
                    """);
                Execute("CREATE INDEX IF NOT EXISTS pe_counter_buckets_purge ON pe_counter_buckets (purge_at)");
                Execute(
                    """
                    CREATE TABLE IF NOT EXISTS pe_counters (
                        key_hash BLOB NOT NULL PRIMARY KEY,
                        horizon INTEGER NOT NULL,
                        purge_at INTEGER NOT NULL
                    ) WITHOUT ROWID
                    """);
                Execute("CREATE INDEX IF NOT EXISTS pe_counters_purge ON pe_counters (purge_at)");

                // Version 2: each counter records its window length, and pe_swept keeps, per window length, the newest
                // bucket start the periodic cleanup deleted (the horizon of counters that are gone).
                if (!HasColumn("pe_counters", "window_ms"))
                {
                    Execute("ALTER TABLE pe_counters ADD COLUMN window_ms INTEGER NOT NULL DEFAULT 0");
                }

                Execute(
                    """
                    CREATE TABLE IF NOT EXISTS pe_swept (
                        window_ms INTEGER NOT NULL PRIMARY KEY,
                        horizon INTEGER NOT NULL
                    )
                    """);
                Execute($"PRAGMA user_version = {SchemaVersion}");
                Execute("COMMIT");
            }
            catch
            {
                TryRollback();
                throw;
            }
        }

        public void Begin(bool immediate)
        {
            (immediate ? _beginImmediate : _beginDeferred).ExecuteNonQuery();
            _inTransaction = true;
        }

        public void Commit()
        {
            _commit.ExecuteNonQuery();
            _inTransaction = false;
        }

        /// <summary>A counter's buckets, and its horizon: the later of its own and that of swept counters of its window length.</summary>
        public Ledger Load(byte[] key, long windowMs)
        {
            _select.Parameters[0].Value = key;
            _select.Parameters[1].Value = windowMs;
            var list = new List<Bucket>(4);
            var horizon = long.MinValue;
            using var reader = _select.ExecuteReader();
            while (reader.Read())
            {
                if (reader.GetInt64(0) == 0)
                {
                    list.Add(new Bucket(reader.GetInt64(1), reader.GetInt64(2)));
                }
                else
                {
                    horizon = Math.Max(horizon, reader.GetInt64(1));
                }
            }

            return new Ledger(list, horizon);
        }

        public void UpsertCounter(byte[] key, long horizon, long windowMs, long purgeAt)
        {
            _upsertCounter.Parameters[0].Value = key;
            _upsertCounter.Parameters[1].Value = horizon;
            _upsertCounter.Parameters[2].Value = purgeAt;
            _upsertCounter.Parameters[3].Value = windowMs;
            _upsertCounter.ExecuteNonQuery();
        }

        public void DeleteBucket(byte[] key, long start)
        {
            _deleteBucket.Parameters[0].Value = key;
            _deleteBucket.Parameters[1].Value = start;
            _deleteBucket.ExecuteNonQuery();
        }

        public void UpsertBucket(byte[] key, long start, long count, long purgeAt)
        {
            _upsert.Parameters[0].Value = key;
            _upsert.Parameters[1].Value = start;
            _upsert.Parameters[2].Value = count;
            _upsert.Parameters[3].Value = purgeAt;
            _upsert.ExecuteNonQuery();
        }

        public void Refund(byte[] key, long start, long amount)
        {
            _refund.Parameters[0].Value = key;
            _refund.Parameters[1].Value = start;
            _refund.Parameters[2].Value = amount;
            _refund.ExecuteNonQuery();
        }

        public void DeleteExpired(long nowMs)
        {
            _deleteExpired.Parameters[0].Value = nowMs;
            _deleteExpired.ExecuteNonQuery();
        }

        public void Dispose()
        {
            if (_inTransaction)
            {
                TryRollback();
            }

            _connection.Dispose();
        }

        private void TryRollback()
        {
            try
            {
                Execute("ROLLBACK");
            }
            catch (SqliteException)
            {
                // No transaction was open (SQLite already rolled it back): nothing to undo.
            }

            _inTransaction = false;
        }

        private bool HasColumn(string table, string column)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = $column";
            command.Parameters.AddWithValue("$column", column);
            return (long)command.ExecuteScalar()! > 0;
        }

        private void Execute(string sql)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        private SqliteCommand Command(string sql, params string[] parameters)
        {
            var command = _connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            return command;
        }
    }
}
