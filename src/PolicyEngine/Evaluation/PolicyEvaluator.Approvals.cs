using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PolicyEngine.Approvals;
using PolicyEngine.Compilation;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Json;

namespace PolicyEngine;

// The evaluator's approval queue: putting a call that needs approval in the queue, approving or denying it as one of
// the policy's approvers, and waiting for the outcome. The queue itself is the approval store (IApprovalQueue).
public sealed partial class PolicyEvaluator
{
    /// <summary>The longest kept preview value, in characters of canonical JSON; longer values are cut.</summary>
    internal const int MaxPreviewLength = 1024;

    private static readonly TimeSpan WaitPollInterval = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    /// <summary>
    /// Raised after every approval transition made through this evaluator (requested, voted, approved, denied,
    /// expired, refused, consumed), on the acting thread. A throwing handler is ignored.
    /// </summary>
    public event EventHandler<ApprovalEvent>? ApprovalChanged;

    /// <summary>The approval store as a queue, or <see langword="null"/> when it keeps no queue.</summary>
    public IApprovalQueue? ApprovalQueue => _approvals as IApprovalQueue;

    /// <summary>
    /// Puts the call behind a <see cref="DecisionKind.NeedsApproval"/> decision in the approval queue (or returns the
    /// request already pending for the same call). Stores the arguments' names and SHA-256, and only the values the
    /// rule's <c>preview</c> names.
    /// </summary>
    /// <param name="decision">A needs-approval decision from this evaluator.</param>
    /// <param name="args">The same arguments the decision was made for.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pending request; tell the agent its <see cref="PendingApproval.Id"/>.</returns>
    /// <exception cref="ArgumentException">The decision needs no approval, or the arguments are not the decision's.</exception>
    /// <exception cref="InvalidOperationException">The approval store keeps no queue, or the queue is full.</exception>
    public ValueTask<PendingApproval> RequestApprovalAsync(Decision decision, JsonElement args, CancellationToken cancellationToken = default) =>
        RequestApprovalCoreAsync(decision, args, null, cancellationToken);

    /// <summary>
    /// <see cref="RequestApprovalAsync(Decision, JsonElement, CancellationToken)"/> for arguments in the MCP SDK's shape.
    /// </summary>
    /// <param name="decision">A needs-approval decision from this evaluator.</param>
    /// <param name="args">The same arguments the decision was made for.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pending request.</returns>
    public ValueTask<PendingApproval> RequestApprovalAsync(Decision decision, IReadOnlyDictionary<string, JsonElement>? args, CancellationToken cancellationToken = default) =>
        RequestApprovalCoreAsync(decision, default, args ?? EmptyArguments, cancellationToken);

    /// <summary>Reads one request from the queue.</summary>
    /// <param name="id">The request's id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The request, or <see langword="null"/>.</returns>
    public ValueTask<PendingApproval?> GetApprovalAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return Queue().GetAsync(id, _time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Lists requests in the queue, newest first.</summary>
    /// <param name="query">Filter and page (default: pending requests, first 50).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The page.</returns>
    public ValueTask<IReadOnlyList<PendingApproval>> ListApprovalsAsync(ApprovalQuery? query = null, CancellationToken cancellationToken = default) =>
        Queue().ListAsync(query ?? new ApprovalQuery(), _time.GetUtcNow(), cancellationToken);

    /// <summary>
    /// Whether <paramref name="approver"/> may approve or deny <paramref name="request"/> under the policy in force:
    /// <see cref="ApprovalOutcome.Approved"/> when it may, otherwise why not (<see cref="ApprovalOutcome.SelfApproval"/>,
    /// <see cref="ApprovalOutcome.NotAuthorized"/>, <see cref="ApprovalOutcome.PolicyChanged"/>).
    /// </summary>
    /// <param name="approver">The would-be approver.</param>
    /// <param name="request">The request.</param>
    /// <returns>The check's outcome.</returns>
    public ApprovalOutcome Authorize(PolicyIdentity approver, PendingApproval request)
    {
        ArgumentNullException.ThrowIfNull(approver);
        ArgumentNullException.ThrowIfNull(request);
        if (string.Equals(approver.Id, request.IdentityId, StringComparison.Ordinal))
        {
            return ApprovalOutcome.SelfApproval;
        }

        var policy = Policy;
        if (!string.Equals(policy.Version, request.PolicyVersion, StringComparison.Ordinal) || FindApproval(policy, request) is not { } rule)
        {
            return ApprovalOutcome.PolicyChanged;
        }

        return Satisfies(rule, approver) ? ApprovalOutcome.Approved : ApprovalOutcome.NotAuthorized;
    }

    /// <summary>Whether the rule names approvers and <paramref name="approver"/> satisfies every one of its predicates.</summary>
    private static bool Satisfies(CompiledApproval? rule, PolicyIdentity approver)
    {
        if (rule?.Approvers is not { } approvers)
        {
            return false;
        }

        try
        {
            var context = new EvaluationContext(JsonObjects.Empty, null, approver);
            foreach (var predicate in approvers)
            {
                var ambiguous = false;
                if (!predicate.Holds(context, ref ambiguous) || ambiguous)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // An identity the predicates cannot read never approves.
            return false;
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="identity"/> satisfies the <c>approvers</c> of at least one approval rule of the policy in
    /// force: the question an approvals page asks before it shows anything.
    /// </summary>
    /// <param name="identity">The would-be approver.</param>
    /// <returns><see langword="true"/> when it may approve some request.</returns>
    public bool IsApprover(PolicyIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        var policy = Policy;
        if (Satisfies(policy.AllTools?.Approval, identity))
        {
            return true;
        }

        foreach (var tool in policy.Document.Tools)
        {
            if (tool.Approval?.Approvers is not null && tool.Name is { } name && Satisfies(policy.Find(name)?.Approval, identity))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Approves a queued request as <paramref name="approver"/>, who must satisfy the rule's <c>approvers</c> and must
    /// not be the caller. When enough distinct approvers have approved, the exact call may run once, before the
    /// rule's ttl.
    /// </summary>
    /// <param name="id">The request's id.</param>
    /// <param name="approver">Who approves.</param>
    /// <param name="comment">An optional comment for the history.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened; nothing changes unless <see cref="ApprovalResult.Succeeded"/>.</returns>
    public ValueTask<ApprovalResult> ApproveAsync(string id, PolicyIdentity approver, string? comment = null, CancellationToken cancellationToken = default) =>
        VoteAsync(id, approver, approve: true, comment, cancellationToken);

    /// <summary>Denies a queued request as <paramref name="approver"/> (same checks as approving).</summary>
    /// <param name="id">The request's id.</param>
    /// <param name="approver">Who denies.</param>
    /// <param name="comment">An optional comment for the history.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened.</returns>
    public ValueTask<ApprovalResult> DenyAsync(string id, PolicyIdentity approver, string? comment = null, CancellationToken cancellationToken = default) =>
        VoteAsync(id, approver, approve: false, comment, cancellationToken);

    /// <summary>
    /// Waits until the request leaves <see cref="ApprovalStatus.Pending"/> or <paramref name="timeout"/> passes. A vote
    /// through this evaluator wakes the waiter at once; votes through other processes are seen by polling the store.
    /// </summary>
    /// <param name="id">The request's id.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The request as it stands at the end (still pending on timeout), or <see langword="null"/> when it is gone.</returns>
    public async ValueTask<PendingApproval?> WaitForApprovalAsync(string id, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        var queue = Queue();
        var deadline = _time.GetUtcNow() + timeout;
        while (true)
        {
            var signal = _waiters.GetOrAdd(id, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var now = _time.GetUtcNow();
            var request = await queue.GetAsync(id, now, cancellationToken).ConfigureAwait(false);
            if (request is null || request.StatusAt(now) != ApprovalStatus.Pending || now >= deadline)
            {
                // No signal outlives its waiters (a request nobody decides would otherwise keep one forever); a
                // concurrent waiter on the same request then falls back to polling.
                _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(id, signal));
                return request;
            }

            var wait = deadline - now < WaitPollInterval ? deadline - now : WaitPollInterval;
            try
            {
                await signal.Task.WaitAsync(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Poll the store again: an approver may have acted through another process.
            }
        }
    }

    /// <summary>What to tell the agent while its call waits: the rule's <c>on_pending</c>, or a generated text.</summary>
    /// <param name="request">The pending request.</param>
    /// <param name="onPending">The rule's <c>on_pending</c> text, if any (<see cref="ApprovalRequest.OnPending"/>).</param>
    /// <returns>The text, naming the request id.</returns>
    public static string PendingMessage(PendingApproval request, string? onPending = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var approvers = request.MinApprovers == 1 ? "an approver" : $"{request.MinApprovers} approvers";
        return (onPending ?? $"Call to '{request.Tool}' is waiting for {approvers} to approve it ({request.Reason}).")
            + $" Approval request id: {request.Id}. It was not run. Make the same call again after it is approved (before {request.ExpiresAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC); a different call needs a new approval.";
    }

    private IApprovalQueue Queue() =>
        _approvals as IApprovalQueue ?? throw new InvalidOperationException("the approval store keeps no queue: use an IApprovalQueue such as InMemoryApprovalStore, SqliteApprovalStore or RedisApprovalStore");

    private async ValueTask<PendingApproval> RequestApprovalCoreAsync(Decision decision, JsonElement args, IReadOnlyDictionary<string, JsonElement>? dictionary, CancellationToken cancellationToken)
    {
        if (decision.Kind != DecisionKind.NeedsApproval || decision.Approval is not { } approval)
        {
            throw new ArgumentException("the decision needs no approval", nameof(decision));
        }

        var queue = Queue();
        var element = JsonObjects.Arguments(args, dictionary);
        var canonical = CanonicalJson.ToCanonicalBytes(element);
        var fingerprint = ApprovalFingerprint.Compute(approval.PolicyVersion, approval.IdentityId, approval.Tool, canonical);
        if (!string.Equals(fingerprint, approval.Id, StringComparison.Ordinal))
        {
            throw new ArgumentException("the arguments are not the ones the decision was made for", nameof(args));
        }

        var names = new List<string>();
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Contains(property.Name))
            {
                names.Add(property.Name);
            }
        }

        names.Sort(StringComparer.Ordinal);
        var preview = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in approval.Compiled?.Preview ?? [])
        {
            if (PreviewValue(element, path) is { } value)
            {
                preview[path] = value;
            }
        }

        var now = _time.GetUtcNow();
        var request = new PendingApproval(
            Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            fingerprint,
            approval.Tool,
            approval.IdentityId,
            approval.Reason,
            approval.Rule,
            approval.PolicyVersion,
            now,
            now + approval.TimeToLive,
            approval.TimeToLive,
            approval.Compiled?.MinApprovers ?? 1,
            Convert.ToHexStringLower(SHA256.HashData(canonical)),
            names,
            preview);
        var stored = await queue.SubmitAsync(request, now, cancellationToken).ConfigureAwait(false);
        Raise(new ApprovalEvent(now, ApprovalEventKind.Requested, stored.Id, stored.Tool, stored.IdentityId, stored));
        return stored;
    }

    private async ValueTask<ApprovalResult> VoteAsync(string id, PolicyIdentity approver, bool approve, string? comment, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(approver);
        var queue = Queue();
        var now = _time.GetUtcNow();
        var request = await queue.GetAsync(id, now, cancellationToken).ConfigureAwait(false);
        if (request is null)
        {
            return new ApprovalResult(ApprovalOutcome.NotFound, null, changed: false);
        }

        var authorized = Authorize(approver, request);
        if (authorized != ApprovalOutcome.Approved)
        {
            Raise(new ApprovalEvent(now, ApprovalEventKind.Refused, request.Id, request.Tool, request.IdentityId, request, approver.Id, comment, authorized));
            return new ApprovalResult(authorized, request, changed: false);
        }

        var vote = new ApprovalVote(approver.Id, approve, comment, now);
        var result = await queue.DecideAsync(id, vote, now, cancellationToken).ConfigureAwait(false);
        var kind = result.Outcome switch
        {
            ApprovalOutcome.Recorded => ApprovalEventKind.Voted,
            ApprovalOutcome.Approved => ApprovalEventKind.Approved,
            ApprovalOutcome.Denied => ApprovalEventKind.Denied,
            ApprovalOutcome.Expired => ApprovalEventKind.Expired,
            _ => ApprovalEventKind.Refused,
        };
        var after = result.Request ?? request;
        Raise(new ApprovalEvent(now, kind, after.Id, after.Tool, after.IdentityId, after, approver.Id, vote.Comment, result.Outcome));
        if (result.Changed && _waiters.TryRemove(id, out var waiter))
        {
            waiter.TrySetResult();
        }

        return result;
    }

    private void OnApprovalConsumed(bool consumed, string? fingerprint, PolicyIdentity identity, string tool, DateTimeOffset now)
    {
        if (consumed && fingerprint is not null && ApprovalChanged is not null)
        {
            Raise(new ApprovalEvent(now, ApprovalEventKind.Consumed, fingerprint, tool, identity.Id));
        }
    }

    private void Raise(ApprovalEvent e)
    {
        try
        {
            ApprovalChanged?.Invoke(this, e);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Auditing must never change an approval.
        }
    }

    /// <summary>The compiled approval rule a request came from, in <paramref name="policy"/> (of the request's version).</summary>
    private static CompiledApproval? FindApproval(Policy policy, PendingApproval request)
    {
        if (policy.Find(request.Tool)?.Approval is { } own && string.Equals(own.Pointer, request.Rule, StringComparison.Ordinal))
        {
            return own;
        }

        return policy.AllTools?.Approval is { } all && string.Equals(all.Pointer, request.Rule, StringComparison.Ordinal) ? all : null;
    }

    /// <summary>The canonical JSON of the value at <paramref name="path"/> (<c>args.a.b</c>), cut to <see cref="MaxPreviewLength"/>; <see langword="null"/> when absent.</summary>
    private static string? PreviewValue(JsonElement args, string path)
    {
        var current = args;
        foreach (var segment in path.AsSpan(5).ToString().Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
            {
                return null;
            }
        }

        if (current.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(CanonicalJson.ToCanonicalBytes(current));
        return text.Length > MaxPreviewLength ? string.Concat(text.AsSpan(0, MaxPreviewLength), "…") : text;
    }
}
