using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Data.Sqlite;

namespace PolicyEngine.Sqlite;

/// <summary>
/// A durable <see cref="ICounterStore"/> in one SQLite file: counters survive restarts, and several processes on the
/// same host may share the file. Each reservation is one <c>BEGIN IMMEDIATE</c> transaction (the write lock is taken
/// before anything is read, so concurrent reservations, in this process or another, are serialized and exact); the
/// file is in WAL mode, so peeks never block and never wait for a writer.
/// </summary>
/// <remarks>
/// <para>Schema (version 2): <c>pe_counter_buckets(key_hash BLOB, bucket_start INTEGER, count INTEGER, purge_at INTEGER)</c>,
/// keyed by (key_hash, bucket_start); <c>pe_counters(key_hash BLOB, horizon INTEGER, purge_at INTEGER, window_ms
/// INTEGER)</c>, one row per counter; and <c>pe_swept(window_ms INTEGER, horizon INTEGER)</c>, one row per window length.
/// <c>key_hash</c> is the SHA-256 of the counter key's UTF-16 code units: SQLite stores text as UTF-8, which would
/// merge keys differing only in lone surrogates. Buckets are deleted once their window (plus one more window, for calls
/// stamped slightly out of order) is over.</para>
/// <para>Out-of-order callers (several threads or processes read their clocks, then queue for the write lock in
/// another order): a call counts what <see cref="CounterSlot.Counts"/> says, so a sliding window also counts buckets
/// newer than its own, and no window-length interval ever holds more than max, whatever the arrival order. Whatever is
/// deleted is remembered: pruning by a charge as the counter's horizon, the periodic cleanup as the horizon of its
/// window length in <c>pe_swept</c>; a call stamped so far back that it would count a deleted bucket
/// (<see cref="CounterSlot.IsBehind"/>) is refused, with a retry-after that waits past it.</para>
/// <para>Use a local file system: WAL and SQLite's locks do not work over network shares.</para>
/// </remarks>
public sealed partial class SqliteCounterStore : CounterStore, IDisposable
{
    private const int SchemaVersion = 2;

    private readonly string _connectionString;
    private readonly int _busyMs;
    private readonly bool _synchronousFull;
    private readonly long _cleanupIntervalMs;
    private readonly ConcurrentBag<Session> _idle = [];

    // Writers of this process queue here, in order, instead of polling SQLite's busy handler against each other (which
    // can starve one of them past the busy timeout); only writers in other processes meet the busy handler.
    private readonly Lock _writeLock = new();
    private long _nextCleanupMs = long.MinValue;
    private volatile bool _disposed;

    /// <summary>Opens (and on first use creates) the store in <paramref name="path"/>.</summary>
    /// <param name="path">The database file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty (reported as <see cref="SqliteCounterStoreOptions.Path"/>).</exception>
    public SqliteCounterStore(string path)
        : this(new SqliteCounterStoreOptions { Path = path })
    {
    }

    /// <summary>Opens (and on first use creates) the store described by <paramref name="options"/>.</summary>
    /// <param name="options">The file and its settings; validated and copied, so later changes have no effect.</param>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public SqliteCounterStore(SqliteCounterStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options).ThrowIfAny();
        _busyMs = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
        _synchronousFull = options.SynchronousFull;
        _cleanupIntervalMs = (long)options.CleanupInterval.TotalMilliseconds;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(SqliteCounterStoreOptions options)
    {
        var problems = new OptionsProblems(nameof(SqliteCounterStoreOptions));
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            problems.Add(nameof(options.Path), "is required: the database file");
        }

        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            problems.Add(nameof(options.BusyTimeout), $"must be positive and under 24 days (it is {options.BusyTimeout})");
        }

        if (options.CleanupInterval <= TimeSpan.Zero)
        {
            problems.Add(nameof(options.CleanupInterval), $"must be positive (it is {options.CleanupInterval})");
        }

        return problems;
    }

    /// <summary>The number of buckets stored (for diagnostics and tests).</summary>
    /// <returns>The row count.</returns>
    internal long CountBuckets()
    {
        using var lease = Rent();
        using var command = lease.Session.Connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pe_counter_buckets";
        return (long)command.ExecuteScalar()!;
    }

    // Microsoft.Data.Sqlite has no truly asynchronous I/O (a local file answers in microseconds), so the asynchronous
    // methods are the base class's: they run these.

    /// <inheritdoc/>
    protected override CounterResult ReserveCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: true);

    /// <inheritdoc/>
    protected override CounterResult PeekCore(IReadOnlyList<CounterRequest> requests, DateTimeOffset now) => Run(requests, now, commit: false);

    /// <inheritdoc/>
    protected override void ReleaseCore(CounterReservation reservation, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var any = false;
        foreach (var charge in reservation.Charges)
        {
            any |= charge.Amount > 0 && nowMs < charge.WindowEnd;
        }

        if (!any)
        {
            return;
        }

        using var lease = Rent();
        var session = lease.Session;
        using var writing = _writeLock.EnterScope();
        session.Begin(immediate: true);
        try
        {
            foreach (var charge in reservation.Charges)
            {
                // A window that is over is left alone: a rollback never touches a later window.
                if (charge.Amount > 0 && nowMs < charge.WindowEnd)
                {
                    session.Refund(Hash(charge.Key), charge.WindowStart, charge.Amount);
                }
            }

            session.Commit();
        }
        catch
        {
            lease.Poison();
            throw;
        }
    }

    /// <summary>Closes every idle connection; calls after this throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        while (_idle.TryTake(out var session))
        {
            session.Dispose();
        }
    }

    private CounterResult Run(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        var count = requests.Count;
        if (count == 0)
        {
            return CounterResult.Success(commit ? new CounterReservation([]) : null);
        }

        var nowMs = now.ToUnixTimeMilliseconds();
        var slots = new CounterSlot[count];
        var hashes = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            var request = requests[i];
            slots[i] = CounterSlot.For(request, nowMs);
            hashes[i] = Hash(request.Key);
        }

        using var lease = Rent();
        var session = lease.Session;
        if (!commit)
        {
            return Transact(lease, session, slots, hashes, nowMs, commit: false);
        }

        using var writing = _writeLock.EnterScope();
        return Transact(lease, session, slots, hashes, nowMs, commit: true);
    }

    private CounterResult Transact(Lease lease, Session session, CounterSlot[] slots, byte[][] hashes, long nowMs, bool commit)
    {
        session.Begin(immediate: commit);
        try
        {
            var result = Decide(session, slots, hashes, nowMs, commit);
            session.Commit();
            return result;
        }
        catch
        {
            lease.Poison();
            throw;
        }
    }

    /// <summary>
    /// Inside the transaction: check every slot in request order against the stored buckets plus the charges of earlier
    /// slots (a request naming one counter twice counts both), then write all charges or none. Mirrors
    /// <see cref="InMemoryCounterStore"/>: a slot counts what <see cref="CounterSlot.Counts"/> says (for a sliding window,
    /// buckets newer than its own too, charged by callers stamped later that reached the file first); charging prunes
    /// buckets more than a window older than anything counted and remembers the newest pruned start as the counter's
    /// horizon; a call stamped behind it (<see cref="CounterSlot.IsBehind"/>) is refused.
    /// </summary>
    private CounterResult Decide(Session session, CounterSlot[] slots, byte[][] hashes, long nowMs, bool commit)
    {
        var ledgers = new Dictionary<string, Ledger>(StringComparer.Ordinal);
        var ledgerOf = new Ledger[slots.Length];
        for (var i = 0; i < slots.Length; i++)
        {
            ref readonly var slot = ref slots[i];
            if (!ledgers.TryGetValue(slot.Key, out var ledger))
            {
                ledger = session.Load(hashes[i], slot.WindowLength);
                ledgers.Add(slot.Key, ledger);
            }

            ledgerOf[i] = ledger;
            var buckets = ledger.Buckets;
            long used = 0;
            var own = -1;
            for (var b = 0; b < buckets.Count; b++)
            {
                var bucket = buckets[b];
                if (slot.Counts(bucket.Start))
                {
                    used = CounterSlot.SaturatingAdd(used, bucket.Count);
                }

                if (bucket.Start == slot.BucketStart)
                {
                    own = b;
                }
            }

            // Stamped behind the horizon (it would count pruned buckets), or no room in what it counts, newer buckets
            // included: refuse, with a retry-after computed from every stored bucket it could still count.
            if (slot.IsBehind(ledger.Horizon) || used > slot.Max || slot.Amount > slot.Max - used)
            {
                var stored = new (long Start, long Count)[buckets.Count];
                for (var b = 0; b < buckets.Count; b++)
                {
                    stored[b] = (buckets[b].Start, buckets[b].Count);
                }

                return CounterResult.Limited(i, slot.RetryAfter(nowMs, ledger.Horizon, stored));
            }

            if (own >= 0)
            {
                buckets[own] = buckets[own] with { Count = CounterSlot.SaturatingAdd(buckets[own].Count, slot.Amount) };
            }
            else
            {
                buckets.Add(new Bucket(slot.BucketStart, slot.Amount));
            }
        }

        if (!commit)
        {
            return CounterResult.Success(null);
        }

        var charges = new CounterCharge[slots.Length];
        for (var i = 0; i < slots.Length; i++)
        {
            ref readonly var slot = ref slots[i];
            var ledger = ledgerOf[i];
            var keepFrom = slot.ReadFrom - slot.WindowLength;
            long count = 0;
            for (var b = ledger.Buckets.Count - 1; b >= 0; b--)
            {
                var bucket = ledger.Buckets[b];
                if (bucket.Start == slot.BucketStart)
                {
                    count = bucket.Count;
                }
                else if (bucket.Start < keepFrom)
                {
                    session.DeleteBucket(hashes[i], bucket.Start);
                    ledger.Horizon = Math.Max(ledger.Horizon, bucket.Start);
                    ledger.Buckets.RemoveAt(b);
                }
            }

            // Kept one window beyond when it stops counting: a call stamped slightly earlier may still arrive and read it.
            var retainUntil = CounterSlot.SaturatingAdd(slot.ExpiresAt, slot.WindowLength);
            session.UpsertBucket(hashes[i], slot.BucketStart, count, retainUntil);
            session.UpsertCounter(hashes[i], ledger.Horizon, slot.WindowLength, retainUntil);
            charges[i] = slot.ToCharge();
        }

        MaybeCleanup(session, nowMs);
        return CounterResult.Success(new CounterReservation(charges));
    }

    private void MaybeCleanup(Session session, long nowMs)
    {
        var next = Volatile.Read(ref _nextCleanupMs);
        if (nowMs < next || Interlocked.CompareExchange(ref _nextCleanupMs, nowMs + _cleanupIntervalMs, next) != next)
        {
            return;
        }

        session.DeleteExpired(nowMs);
    }

    /// <summary>SHA-256 of the UTF-16 code units (not UTF-8, which would merge lone surrogates).</summary>
    private static byte[] Hash(string key) => SHA256.HashData(MemoryMarshal.AsBytes(key.AsSpan()));

    private Lease Rent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.TryTake(out var session))
        {
            session = new Session(_connectionString, _busyMs, _synchronousFull);
        }

        return new Lease(this, session);
    }

    private void Return(Session session)
    {
        if (_disposed)
        {
            session.Dispose();
        }
        else
        {
            _idle.Add(session);
        }
    }
}
