namespace PolicyEngine;

/// <summary>
/// A call waiting in an <see cref="IApprovalQueue"/> for approvers: which tool, who called, why it needs approval, when
/// it expires, the arguments' names and SHA-256, the values the policy lets approvers preview, and the votes so far.
/// Immutable: a transition returns a new instance (see <see cref="Decide"/>).
/// </summary>
/// <remarks>
/// <see cref="Id"/> is random (128 bits from a CSPRNG) and names the request to people and agents;
/// <see cref="Fingerprint"/> binds the approval to the exact call (policy version, identity, tool, canonical arguments).
/// No argument value is held except the <see cref="Preview"/> the policy opts into.
/// </remarks>
public sealed partial class PendingApproval
{
    /// <summary>Creates a request (stores and <see cref="PolicyEvaluator.RequestApprovalAsync(Decision, System.Text.Json.JsonElement, CancellationToken)"/> do).</summary>
    /// <param name="id">The random request id.</param>
    /// <param name="fingerprint">The call's <see cref="ApprovalRequest.Id"/>.</param>
    /// <param name="tool">The tool called.</param>
    /// <param name="identityId">The caller's identity id.</param>
    /// <param name="reason">The rule's reason.</param>
    /// <param name="rule">The rule's JSON Pointer.</param>
    /// <param name="policyVersion">The policy version that asked.</param>
    /// <param name="createdAt">When the request was made.</param>
    /// <param name="expiresAt">When the request expires unless decided.</param>
    /// <param name="timeToLive">How long an approval stays usable once given.</param>
    /// <param name="minApprovers">How many distinct approvers must approve.</param>
    /// <param name="argumentsSha256">Lowercase hex SHA-256 of the canonical arguments.</param>
    /// <param name="argumentNames">The sorted top-level argument names.</param>
    /// <param name="preview">Opted-in argument values: path → canonical JSON text.</param>
    /// <param name="status">The stored status.</param>
    /// <param name="votes">The votes so far, in order.</param>
    public PendingApproval(
        string id,
        string fingerprint,
        string tool,
        string identityId,
        string reason,
        string rule,
        string policyVersion,
        DateTimeOffset createdAt,
        DateTimeOffset expiresAt,
        TimeSpan timeToLive,
        int minApprovers,
        string argumentsSha256,
        IReadOnlyList<string> argumentNames,
        IReadOnlyDictionary<string, string> preview,
        ApprovalStatus status = ApprovalStatus.Pending,
        IReadOnlyList<ApprovalVote>? votes = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentException.ThrowIfNullOrEmpty(fingerprint);
        ArgumentException.ThrowIfNullOrEmpty(tool);
        ArgumentNullException.ThrowIfNull(identityId);
        ArgumentNullException.ThrowIfNull(reason);
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(policyVersion);
        ArgumentNullException.ThrowIfNull(argumentsSha256);
        ArgumentNullException.ThrowIfNull(argumentNames);
        ArgumentNullException.ThrowIfNull(preview);
        ArgumentOutOfRangeException.ThrowIfLessThan(minApprovers, 1);
        if (!Enum.IsDefined(status))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "unknown approval status");
        }

        Id = id;
        Fingerprint = fingerprint;
        Tool = tool;
        IdentityId = identityId;
        Reason = reason;
        Rule = rule;
        PolicyVersion = policyVersion;
        CreatedAt = createdAt;
        ExpiresAt = expiresAt;
        TimeToLive = timeToLive;
        MinApprovers = minApprovers;
        ArgumentsSha256 = argumentsSha256;
        ArgumentNames = argumentNames;
        Preview = preview;
        Status = status;
        Votes = votes ?? [];
    }

    /// <summary>The request's random id (32 lowercase hex digits): what agents and approvers name it by.</summary>
    public string Id { get; }

    /// <summary>The exact call's fingerprint (<see cref="ApprovalRequest.Id"/>): an approval serves this call only.</summary>
    public string Fingerprint { get; }

    /// <summary>The tool called.</summary>
    public string Tool { get; }

    /// <summary>The identity that made the call (it can never approve it).</summary>
    public string IdentityId { get; }

    /// <summary>Why approval is needed (the rule's <c>reason</c>).</summary>
    public string Reason { get; }

    /// <summary>The JSON Pointer of the approval rule.</summary>
    public string Rule { get; }

    /// <summary>The policy version that asked; approvals do not survive a policy change.</summary>
    public string PolicyVersion { get; }

    /// <summary>When the request was made.</summary>
    public DateTimeOffset CreatedAt { get; }

    /// <summary>When the request expires unless approved or denied first.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>How long the approval stays usable once given (the rule's <c>ttl</c>).</summary>
    public TimeSpan TimeToLive { get; }

    /// <summary>How many distinct approvers must approve (the rule's <c>min_approvers</c>).</summary>
    public int MinApprovers { get; }

    /// <summary>Lowercase hex SHA-256 of the canonical arguments.</summary>
    public string ArgumentsSha256 { get; }

    /// <summary>The top-level argument names, sorted ordinally.</summary>
    public IReadOnlyList<string> ArgumentNames { get; }

    /// <summary>The argument values the rule's <c>preview</c> opts into: path (<c>args.…</c>) → canonical JSON text.</summary>
    public IReadOnlyDictionary<string, string> Preview { get; }

    /// <summary>The stored status; see <see cref="StatusAt"/> for the status at a given time.</summary>
    public ApprovalStatus Status { get; }

    /// <summary>The votes so far, in the order they were cast.</summary>
    public IReadOnlyList<ApprovalVote> Votes { get; }

    /// <summary>The status at <paramref name="now"/>: a pending request past <see cref="ExpiresAt"/> is expired.</summary>
    /// <param name="now">The current time.</param>
    /// <returns>The status.</returns>
    public ApprovalStatus StatusAt(DateTimeOffset now) =>
        Status == ApprovalStatus.Pending && now >= ExpiresAt ? ApprovalStatus.Expired : Status;

    /// <summary>How many distinct approvers approved so far.</summary>
    public int Approvals
    {
        get
        {
            var count = 0;
            foreach (var vote in Votes)
            {
                count += vote.Approve ? 1 : 0;
            }

            return count;
        }
    }

    /// <summary>
    /// Applies one vote: the single transition rule every <see cref="IApprovalQueue"/> uses, so that stores differ
    /// only in how they make load-apply-store atomic. Authorisation (the rule's <c>approvers</c>) is checked before,
    /// by the evaluator; this checks state, expiry, self-approval and distinct approvers.
    /// </summary>
    /// <param name="vote">The vote.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The outcome and the request after it; store it when <see cref="ApprovalResult.Changed"/>.</returns>
    public ApprovalResult Decide(ApprovalVote vote, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(vote);
        if (Status == ApprovalStatus.Expired)
        {
            return new ApprovalResult(ApprovalOutcome.Expired, this, changed: false);
        }

        if (Status != ApprovalStatus.Pending)
        {
            return new ApprovalResult(ApprovalOutcome.NotPending, this, changed: false);
        }

        if (now >= ExpiresAt)
        {
            return new ApprovalResult(ApprovalOutcome.Expired, With(ApprovalStatus.Expired, Votes), changed: true);
        }

        if (string.Equals(vote.ApproverId, IdentityId, StringComparison.Ordinal))
        {
            return new ApprovalResult(ApprovalOutcome.SelfApproval, this, changed: false);
        }

        foreach (var earlier in Votes)
        {
            if (string.Equals(earlier.ApproverId, vote.ApproverId, StringComparison.Ordinal))
            {
                return new ApprovalResult(ApprovalOutcome.AlreadyVoted, this, changed: false);
            }
        }

        var votes = new List<ApprovalVote>(Votes.Count + 1);
        votes.AddRange(Votes);
        votes.Add(vote);
        if (!vote.Approve)
        {
            return new ApprovalResult(ApprovalOutcome.Denied, With(ApprovalStatus.Denied, votes), changed: true);
        }

        var next = With(ApprovalStatus.Pending, votes);
        return next.Approvals >= MinApprovers
            ? new ApprovalResult(ApprovalOutcome.Approved, With(ApprovalStatus.Approved, votes), changed: true)
            : new ApprovalResult(ApprovalOutcome.Recorded, next, changed: true);
    }

    /// <summary>The same request in another status (a store marks an approved request <see cref="ApprovalStatus.Consumed"/> when its call runs).</summary>
    /// <param name="status">The new status.</param>
    /// <returns>A copy with that status.</returns>
    public PendingApproval WithStatus(ApprovalStatus status) => With(status, Votes);

    private PendingApproval With(ApprovalStatus status, IReadOnlyList<ApprovalVote> votes) =>
        new(Id, Fingerprint, Tool, IdentityId, Reason, Rule, PolicyVersion, CreatedAt, ExpiresAt, TimeToLive, MinApprovers, ArgumentsSha256, ArgumentNames, Preview, status, votes);
}
