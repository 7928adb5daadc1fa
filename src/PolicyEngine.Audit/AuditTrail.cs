using System.Diagnostics.Metrics;
using System.Threading.Channels;

namespace PolicyEngine.Audit;

/// <summary>
/// A tamper-evident audit trail: every decision, shadow disagreement, approval transition and policy load as one line
/// of JSON, each carrying the SHA-256 of the record before it, so that editing, removing or reordering a record breaks
/// the chain (<see cref="AuditVerifier"/>). Records never hold argument values: only argument names and a SHA-256 of
/// the canonical arguments.
/// </summary>
/// <remarks>
/// <para>Recording never blocks a decision: records wait in a bounded queue (<see cref="AuditTrailOptions.Capacity"/>)
/// that one background writer drains. <b>When the queue is full, the new record is dropped</b> and counted
/// (<see cref="DroppedRecords"/>, the metric <see cref="DroppedCounterName"/>), and the writer puts a <c>gap</c> record
/// saying how many were lost into the chain as soon as it can: the trail shows the loss, and stays verifiable. A record
/// that cannot be written (a full disk) is counted the same way.</para>
/// <para>One writer per file: two trails (or two processes) appending to one file break its chain.</para>
/// </remarks>
public sealed partial class AuditTrail : IAsyncDisposable, IDisposable
{
    /// <summary>The counter of records dropped because the queue was full or the write failed: <c>policyengine.audit.dropped</c>.</summary>
    public const string DroppedCounterName = "policyengine.audit.dropped";

    private static readonly Meter Meter = new(PolicyTelemetry.Name, typeof(AuditTrail).Assembly.GetName().Version?.ToString());

    private static readonly Counter<long> DroppedCounter = Meter.CreateCounter<long>(
        DroppedCounterName, unit: "{record}", description: "Audit records lost because the audit queue was full or the write failed.");

    private readonly AuditOutput _output;
    private readonly TimeProvider _time;
    private readonly Channel<Entry> _queue;
    private readonly Task _writer;
    private long _dropped;
    private long _droppedReported;
    private long _written;
    private long _seq;
    private string _prev;
    private Exception? _lastError;
    private int _disposed;

    private AuditTrail(AuditOutput output, AuditTrailOptions options, TimeProvider? timeProvider)
    {
        _output = output;
        _time = timeProvider ?? TimeProvider.System;
        _seq = output.LastSeq;
        _prev = output.LastHash;
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(options.Capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _queue.Writer.TryWrite(new OpenEntry(_time.GetUtcNow(), _seq));
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>
    /// Opens (or continues) the trail in <paramref name="path"/>, rotating it by size: the current file keeps its
    /// name and full files become <c>NAME.000001.EXT</c>, <c>NAME.000002.EXT</c>, … The chain continues across rotations
    /// and restarts.
    /// </summary>
    /// <param name="path">The current audit file, such as <c>/var/log/guard/audit.jsonl</c>.</param>
    /// <param name="options">Queue capacity and file size limit; validated when the trail is opened.</param>
    /// <param name="timeProvider">
    /// The clock for approval, policy and gap records (default <see cref="TimeProvider.System"/>); decision records carry
    /// the evaluator's time.
    /// </param>
    /// <returns>The trail; dispose it to write what is queued and close the file.</returns>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    /// <exception cref="InvalidDataException">The existing trail's last record is damaged, so the chain cannot continue.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static AuditTrail ToFile(string path, AuditTrailOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new AuditTrailOptions();
        Validate(options).ThrowIfAny();
        return new AuditTrail(new FileAuditOutput(path, options.MaxFileBytes), options, timeProvider);
    }

    /// <summary>Writes a new trail (its chain starts at the beginning) to a stream the host owns, without rotation.</summary>
    /// <param name="stream">A writable stream.</param>
    /// <param name="options">Queue capacity; validated when the trail is opened (<see cref="AuditTrailOptions.MaxFileBytes"/> is not used, but must still be valid).</param>
    /// <param name="leaveOpen">Whether disposing the trail leaves the stream open.</param>
    /// <param name="timeProvider">
    /// The clock for approval, policy and gap records (default <see cref="TimeProvider.System"/>); decision records carry
    /// the evaluator's time.
    /// </param>
    /// <returns>The trail.</returns>
    /// <exception cref="ArgumentException">The stream is not writable, or some option is wrong (the message names every wrong property).</exception>
    public static AuditTrail ToStream(Stream stream, AuditTrailOptions? options = null, bool leaveOpen = false, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException("the stream is not writable", nameof(stream));
        }

        options ??= new AuditTrailOptions();
        Validate(options).ThrowIfAny();
        return new AuditTrail(new StreamAuditOutput(stream, leaveOpen), options, timeProvider);
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(AuditTrailOptions options)
    {
        var problems = new OptionsProblems(nameof(AuditTrailOptions));
        if (options.Capacity < 1)
        {
            problems.Add(nameof(options.Capacity), $"must be at least 1 (it is {options.Capacity})");
        }

        if (options.MaxFileBytes < 0)
        {
            problems.Add(nameof(options.MaxFileBytes), $"must not be negative; 0 never rotates (it is {options.MaxFileBytes})");
        }

        return problems;
    }

    /// <summary>Records dropped so far (queue full or write failed); each loss is also marked in the trail by a <c>gap</c> record.</summary>
    public long DroppedRecords => Interlocked.Read(ref _dropped);

    /// <summary>Records written so far (gap and open records included).</summary>
    public long WrittenRecords => Interlocked.Read(ref _written);

    /// <summary>The last write error, if a write has failed.</summary>
    public Exception? LastError => Volatile.Read(ref _lastError);

    /// <summary>Records every decision and approval-queue transition of <paramref name="evaluator"/>, until the returned object is disposed.</summary>
    /// <param name="evaluator">The evaluator to listen to.</param>
    /// <returns>Disposing it stops recording.</returns>
    public IDisposable Attach(PolicyEvaluator evaluator)
    {
        ArgumentNullException.ThrowIfNull(evaluator);
        EventHandler<DecisionEvent> handler = (_, e) => Record(e);
        EventHandler<ApprovalEvent> approvals = (_, e) => Record(e);
        evaluator.DecisionMade += handler;
        evaluator.ApprovalChanged += approvals;
        return new Subscription(() =>
        {
            evaluator.DecisionMade -= handler;
            evaluator.ApprovalChanged -= approvals;
        });
    }

    /// <summary>
    /// Records every disagreement of <paramref name="shadow"/>, until the returned object is disposed. (Attach the
    /// enforced evaluator, <see cref="ShadowPolicyEvaluator.Enforced"/>, for the decisions themselves.)
    /// </summary>
    /// <param name="shadow">The shadow evaluator to listen to.</param>
    /// <returns>Disposing it stops recording.</returns>
    public IDisposable Attach(ShadowPolicyEvaluator shadow)
    {
        ArgumentNullException.ThrowIfNull(shadow);
        EventHandler<ShadowDisagreement> handler = (_, e) => Record(e);
        shadow.Disagreement += handler;
        return new Subscription(() => shadow.Disagreement -= handler);
    }

    /// <summary>Queues a <c>decision</c> record.</summary>
    /// <param name="decision">The decision event.</param>
    public void Record(DecisionEvent decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        Enqueue(new DecisionEntry(decision));
    }

    /// <summary>Queues an <c>approval_queue</c> record: one transition of a queued approval request.</summary>
    /// <param name="change">The transition.</param>
    public void Record(ApprovalEvent change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Enqueue(new QueueEntry(change));
    }

    /// <summary>Queues a <c>shadow</c> record.</summary>
    /// <param name="disagreement">The disagreement.</param>
    public void Record(ShadowDisagreement disagreement)
    {
        ArgumentNullException.ThrowIfNull(disagreement);
        Enqueue(new ShadowEntry(disagreement));
    }

    /// <summary>Queues an <c>approval</c> record: a step in the life of an approval request.</summary>
    /// <param name="request">The request.</param>
    /// <param name="outcome">
    /// What happened, in snake case; the MCP adapter writes <c>requested</c>, <c>approved</c>, <c>declined</c>,
    /// <c>cancelled</c>, <c>timed_out</c>, <c>unavailable</c> (the client cannot ask a person) and <c>failed</c>.
    /// </param>
    public void RecordApproval(ApprovalRequest request, string outcome)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(outcome);
        Enqueue(new ApprovalEntry(_time.GetUtcNow(), request, outcome));
    }

    /// <summary>Queues a <c>policy</c> record: a policy loaded, reloaded or rejected.</summary>
    /// <param name="role"><c>enforced</c> or <c>shadow</c>.</param>
    /// <param name="source">Where the policy came from (a file path, or <c>(in code)</c>).</param>
    /// <param name="outcome"><c>loaded</c>, <c>rejected</c> (invalid; the policy in force is kept) or <c>unreadable</c>.</param>
    /// <param name="policyVersion">The loaded policy's <see cref="Policy.Version"/>, if one was loaded.</param>
    /// <param name="problems">How many problems a rejected policy has.</param>
    public void RecordPolicy(string role, string source, string outcome, string? policyVersion, int problems = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(role);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(outcome);
        Enqueue(new PolicyEntry(_time.GetUtcNow(), role, source, outcome, policyVersion, problems));
    }

    /// <summary>Waits until every record queued before the call is written and flushed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the records are flushed.</returns>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var flush = new FlushEntry();
        if (!_queue.Writer.TryWrite(flush))
        {
            try
            {
                await _queue.Writer.WriteAsync(flush, cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                await _writer.WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
        }

        await flush.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes what is queued, then closes the output.</summary>
    /// <returns>A task that completes when the trail is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        _output.Dispose();
    }

    /// <summary>Writes what is queued, then closes the output.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void Enqueue(Entry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            Drop();
        }
    }

    private void Drop()
    {
        Interlocked.Increment(ref _dropped);
        try
        {
            DroppedCounter.Add(1);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Observability is best effort.
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var entry))
            {
                if (entry is FlushEntry flush)
                {
                    FlushOutput();
                    flush.Done.TrySetResult();
                    continue;
                }

                WriteGap();
                Write(entry);
            }

            FlushOutput();
        }

        WriteGap();
        FlushOutput();
    }

    private void WriteGap()
    {
        var lost = Interlocked.Read(ref _dropped) - _droppedReported;
        if (lost > 0 && Write(new GapEntry(_time.GetUtcNow(), lost)))
        {
            _droppedReported += lost;
        }
    }

    private bool Write(Entry entry)
    {
        var builder = new AuditRecordBuilder(_seq + 1, entry.Time, entry.Type);
        entry.WriteFields(builder);
        var body = builder.Body(_prev);
        var hash = AuditChain.Hash(body);
        try
        {
            _output.Write(AuditChain.Seal(body, hash));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or NotSupportedException)
        {
            Volatile.Write(ref _lastError, ex);
            if (entry is not GapEntry)
            {
                Drop();
            }

            return false;
        }

        _seq++;
        _prev = hash;
        Interlocked.Increment(ref _written);
        return true;
    }

    private void FlushOutput()
    {
        try
        {
            _output.Flush();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException or NotSupportedException)
        {
            Volatile.Write(ref _lastError, ex);
        }
    }

    private sealed class Subscription(Action unsubscribe) : IDisposable
    {
        private Action? _unsubscribe = unsubscribe;

        public void Dispose() => Interlocked.Exchange(ref _unsubscribe, null)?.Invoke();
    }
}
