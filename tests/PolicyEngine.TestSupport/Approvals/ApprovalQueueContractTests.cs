namespace PolicyEngine.Tests.Approvals;

/// <summary>
/// Every scenario an <see cref="IApprovalQueue"/> must pass, whatever its storage (in memory, SQLite, Redis). A store's
/// test class inherits this one and implements <see cref="CreateStore"/>; durable stores also implement
/// <see cref="Reopen"/> (a new store over the same storage, as after a restart).
/// </summary>
public abstract class ApprovalQueueContractTests : IAsyncDisposable
{
    /// <summary>An ordinary instant.</summary>
    protected static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 20, 250, TimeSpan.Zero);

    private readonly List<IApprovalQueue> _stores = [];
    private int _sequence;

    /// <summary>Creates a new, empty store (or one whose keys cannot meet this test's keys).</summary>
    protected abstract IApprovalQueue CreateStore();

    /// <summary>A new store over the same storage as <paramref name="store"/>, or <see langword="null"/> for a store that does not outlive its process.</summary>
    protected virtual IApprovalQueue? Reopen(IApprovalQueue store) => null;

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            if (store is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else if (store is IDisposable disposable)
            {
                disposable.Dispose();
            }
        }

        GC.SuppressFinalize(this);
    }

    private IApprovalQueue Store()
    {
        var store = CreateStore();
        _stores.Add(store);
        return store;
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>A pending request with a unique id and fingerprint.</summary>
    private PendingApproval Request(string tool = "refund", string identity = "agent", int minApprovers = 1, DateTimeOffset? created = null, TimeSpan? pendingFor = null)
    {
        var n = Interlocked.Increment(ref _sequence);
        var at = created ?? T0;
        return new PendingApproval(
            Guid.NewGuid().ToString("N"),
            "fp-" + Guid.NewGuid().ToString("N") + "-" + n,
            tool,
            identity,
            "refunds need a person",
            "/tools/refund/approval",
            "v1",
            at,
            at + (pendingFor ?? TimeSpan.FromMinutes(15)),
            TimeSpan.FromMinutes(10),
            minApprovers,
            new string('a', 64),
            ["amount", "reason"],
            new Dictionary<string, string> { ["args.amount"] = "12000" });
    }

    private static ApprovalVote Approve(string approver, DateTimeOffset at, string? comment = null) => new(approver, true, comment, at);

    private static ApprovalVote Deny(string approver, DateTimeOffset at, string? comment = null) => new(approver, false, comment, at);

    [Fact]
    public async Task Submit_ThenGet_KeepsEveryField()
    {
        var store = Store();
        var request = Request();
        var stored = await store.SubmitAsync(request, T0, Token);
        var read = await store.GetAsync(request.Id, T0, Token);

        Assert.Same(request, stored);
        Assert.NotNull(read);
        Assert.Equal(request.ToJson(), read.ToJson());
        Assert.Equal("12000", read.Preview["args.amount"]);
        Assert.Equal(["amount", "reason"], read.ArgumentNames);
        Assert.Null(await store.GetAsync("no-such-id", T0, Token));
    }

    [Fact]
    public async Task Submit_SameCallWhilePending_ReturnsTheWaitingRequest()
    {
        var store = Store();
        var first = Request();
        await store.SubmitAsync(first, T0, Token);
        var again = new PendingApproval(Guid.NewGuid().ToString("N"), first.Fingerprint, first.Tool, first.IdentityId, first.Reason, first.Rule, first.PolicyVersion, T0.AddSeconds(5), T0.AddMinutes(20), first.TimeToLive, 1, first.ArgumentsSha256, first.ArgumentNames, first.Preview);

        var stored = await store.SubmitAsync(again, T0.AddSeconds(5), Token);

        Assert.Equal(first.Id, stored.Id);
        Assert.Null(await store.GetAsync(again.Id, T0.AddSeconds(5), Token));
    }

    [Fact]
    public async Task Submit_SameCallAfterDenial_MakesANewRequest()
    {
        var store = Store();
        var first = Request();
        await store.SubmitAsync(first, T0, Token);
        await store.DecideAsync(first.Id, Deny("boss", T0.AddSeconds(1)), T0.AddSeconds(1), Token);
        var again = new PendingApproval(Guid.NewGuid().ToString("N"), first.Fingerprint, first.Tool, first.IdentityId, first.Reason, first.Rule, first.PolicyVersion, T0.AddSeconds(5), T0.AddMinutes(20), first.TimeToLive, 1, first.ArgumentsSha256, first.ArgumentNames, first.Preview);

        var stored = await store.SubmitAsync(again, T0.AddSeconds(5), Token);

        Assert.Equal(again.Id, stored.Id);
    }

    [Fact]
    public async Task Approve_GivesTheCallOneUse()
    {
        var store = Store();
        var request = Request();
        await store.SubmitAsync(request, T0, Token);

        var result = await store.DecideAsync(request.Id, Approve("boss", T0.AddSeconds(1), "ok"), T0.AddSeconds(1), Token);

        Assert.Equal(ApprovalOutcome.Approved, result.Outcome);
        Assert.Equal(ApprovalStatus.Approved, (await store.GetAsync(request.Id, T0.AddSeconds(2), Token))!.Status);
        var (consumed, expiresAt) = await store.TryConsumeAsync(request.Fingerprint, T0.AddSeconds(2), Token);
        Assert.True(consumed);
        Assert.Equal(T0.AddSeconds(1) + request.TimeToLive, expiresAt);
        Assert.False(store.TryConsume(request.Fingerprint, T0.AddSeconds(3), out _));
        var after = await store.GetAsync(request.Id, T0.AddSeconds(3), Token);
        Assert.Equal(ApprovalStatus.Consumed, after!.Status);
        Assert.Equal("ok", Assert.Single(after.Votes).Comment);
    }

    [Fact]
    public async Task Approve_OfAnotherCall_ApprovesNothingElse()
    {
        var store = Store();
        var request = Request();
        var other = Request();
        await store.SubmitAsync(request, T0, Token);
        await store.SubmitAsync(other, T0, Token);

        await store.DecideAsync(request.Id, Approve("boss", T0), T0, Token);

        Assert.False(store.TryConsume(other.Fingerprint, T0.AddSeconds(1), out _));
        Assert.Equal(ApprovalStatus.Pending, (await store.GetAsync(other.Id, T0, Token))!.Status);
    }

    [Fact]
    public async Task ConcurrentApproveAndDeny_ExactlyOneWins()
    {
        for (var round = 0; round < 5; round++)
        {
            var store = Store();
            var request = Request();
            await store.SubmitAsync(request, T0, Token);
            var at = T0.AddSeconds(1);
            var votes = Enumerable.Range(0, 12)
                .Select(i => Task.Run(async () => await store.DecideAsync(request.Id, i % 2 == 0 ? Approve("approver-" + i, at) : Deny("approver-" + i, at), at, Token), Token))
                .ToArray();
            var results = await Task.WhenAll(votes);

            var winners = results.Where(r => r.Succeeded).ToArray();
            var winner = Assert.Single(winners);
            Assert.All(results.Where(r => !r.Succeeded), r => Assert.Equal(ApprovalOutcome.NotPending, r.Outcome));
            var final = await store.GetAsync(request.Id, at, Token);
            var consumed = store.TryConsume(request.Fingerprint, at, out _);
            if (winner.Outcome == ApprovalOutcome.Approved)
            {
                Assert.Equal(ApprovalStatus.Consumed, (await store.GetAsync(request.Id, at, Token))!.Status);
                Assert.True(consumed);
            }
            else
            {
                Assert.Equal(ApprovalOutcome.Denied, winner.Outcome);
                Assert.Equal(ApprovalStatus.Denied, final!.Status);
                Assert.False(consumed);
            }
        }
    }

    [Fact]
    public async Task ConcurrentConsumers_ExactlyOneConsumes()
    {
        var store = Store();
        var request = Request();
        await store.SubmitAsync(request, T0, Token);
        await store.DecideAsync(request.Id, Approve("boss", T0), T0, Token);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () => (await store.TryConsumeAsync(request.Fingerprint, T0.AddSeconds(1), Token)).Consumed, Token)));

        Assert.Equal(1, attempts.Count(consumed => consumed));
    }

    [Fact]
    public async Task Vote_AfterExpiry_IsRefusedAndApprovesNothing()
    {
        var store = Store();
        var request = Request(pendingFor: TimeSpan.FromMinutes(1));
        await store.SubmitAsync(request, T0, Token);
        var late = T0.AddMinutes(1);

        var result = await store.DecideAsync(request.Id, Approve("boss", late), late, Token);

        Assert.Equal(ApprovalOutcome.Expired, result.Outcome);
        Assert.False(store.TryConsume(request.Fingerprint, late, out _));
        Assert.Equal(ApprovalStatus.Expired, (await store.GetAsync(request.Id, late, Token))!.StatusAt(late));
        Assert.Contains(await store.ListAsync(new ApprovalQuery { Status = ApprovalStatus.Expired }, late, Token), r => r.Id == request.Id);
        Assert.DoesNotContain(await store.ListAsync(new ApprovalQuery(), late, Token), r => r.Id == request.Id);
    }

    [Fact]
    public async Task Approval_UnusedBeforeItsTtl_Lapses()
    {
        var store = Store();
        var request = Request();
        await store.SubmitAsync(request, T0, Token);
        await store.DecideAsync(request.Id, Approve("boss", T0), T0, Token);

        Assert.False(store.TryConsume(request.Fingerprint, T0 + request.TimeToLive, out _));
    }

    [Fact]
    public async Task Caller_CannotApproveItsOwnCall()
    {
        var store = Store();
        var request = Request(identity: "agent");
        await store.SubmitAsync(request, T0, Token);

        var result = await store.DecideAsync(request.Id, Approve("agent", T0), T0, Token);

        Assert.Equal(ApprovalOutcome.SelfApproval, result.Outcome);
        Assert.False(store.TryConsume(request.Fingerprint, T0, out _));
        Assert.Equal(ApprovalStatus.Pending, (await store.GetAsync(request.Id, T0, Token))!.Status);
    }

    [Fact]
    public async Task TwoApprovers_MustBeDistinct()
    {
        var store = Store();
        var request = Request(minApprovers: 2);
        await store.SubmitAsync(request, T0, Token);

        Assert.Equal(ApprovalOutcome.Recorded, (await store.DecideAsync(request.Id, Approve("ann", T0), T0, Token)).Outcome);
        Assert.False(store.TryConsume(request.Fingerprint, T0, out _));
        Assert.Equal(ApprovalOutcome.AlreadyVoted, (await store.DecideAsync(request.Id, Approve("ann", T0), T0, Token)).Outcome);
        Assert.Equal(ApprovalOutcome.Approved, (await store.DecideAsync(request.Id, Approve("ben", T0), T0, Token)).Outcome);
        Assert.True(store.TryConsume(request.Fingerprint, T0, out _));
    }

    [Fact]
    public async Task Denied_StaysDenied()
    {
        var store = Store();
        var request = Request();
        await store.SubmitAsync(request, T0, Token);

        Assert.Equal(ApprovalOutcome.Denied, (await store.DecideAsync(request.Id, Deny("boss", T0, "no"), T0, Token)).Outcome);
        Assert.Equal(ApprovalOutcome.NotPending, (await store.DecideAsync(request.Id, Approve("other", T0), T0, Token)).Outcome);
        Assert.False(store.TryConsume(request.Fingerprint, T0, out _));
        Assert.Equal(ApprovalOutcome.NotFound, (await store.DecideAsync("missing", Approve("boss", T0), T0, Token)).Outcome);
    }

    [Fact]
    public async Task List_FiltersAndPagesNewestFirst()
    {
        var store = Store();
        var tool = "tool-" + Guid.NewGuid().ToString("N");
        var made = new List<PendingApproval>();
        for (var i = 0; i < 5; i++)
        {
            var request = Request(tool: tool, identity: i % 2 == 0 ? "even" : "odd", created: T0.AddSeconds(i));
            made.Add(request);
            await store.SubmitAsync(request, T0.AddSeconds(i), Token);
        }

        await store.SubmitAsync(Request(tool: "elsewhere"), T0, Token);
        var now = T0.AddSeconds(10);

        var all = await store.ListAsync(new ApprovalQuery { Tool = tool }, now, Token);
        var page = await store.ListAsync(new ApprovalQuery { Tool = tool, Offset = 1, Limit = 2 }, now, Token);
        var even = await store.ListAsync(new ApprovalQuery { Tool = tool, IdentityId = "even" }, now, Token);

        Assert.Equal(made.Select(r => r.Id).Reverse(), all.Select(r => r.Id));
        Assert.Equal([made[3].Id, made[2].Id], page.Select(r => r.Id));
        Assert.Equal([made[4].Id, made[2].Id, made[0].Id], even.Select(r => r.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.ListAsync(new ApprovalQuery { Limit = 0 }, now, Token));
    }

    [Fact]
    public async Task ApproveDirectly_ThenConsume_OnceBeforeExpiry()
    {
        var store = Store();
        var fingerprint = "direct-" + Guid.NewGuid().ToString("N");
        await store.ApproveAsync(fingerprint, T0, T0.AddMinutes(1), Token);

        Assert.False(store.TryConsume(fingerprint, T0.AddMinutes(1), out _));
        store.Approve(fingerprint, T0, T0.AddMinutes(1));
        Assert.True(store.TryConsume(fingerprint, T0.AddSeconds(59), out var expiresAt));
        Assert.Equal(T0.AddMinutes(1), expiresAt);
        Assert.False(store.TryConsume(fingerprint, T0.AddSeconds(59), out _));
        store.Approve(fingerprint, T0, T0);
        Assert.False(store.TryConsume(fingerprint, T0, out _));
    }

    [Fact]
    public async Task Restart_KeepsRequestsAndApprovals()
    {
        var store = Store();
        var pending = Request();
        var approved = Request();
        await store.SubmitAsync(pending, T0, Token);
        await store.SubmitAsync(approved, T0, Token);
        await store.DecideAsync(approved.Id, Approve("boss", T0, "fine"), T0, Token);
        var reopened = Reopen(store);
        Assert.SkipWhen(reopened is null, "this store keeps requests in its process's memory only");
        _stores.Add(reopened!);

        Assert.Equal(pending.ToJson(), (await reopened!.GetAsync(pending.Id, T0, Token))!.ToJson());
        Assert.True(reopened.TryConsume(approved.Fingerprint, T0.AddSeconds(1), out _));
        Assert.False(store.TryConsume(approved.Fingerprint, T0.AddSeconds(1), out _));
        Assert.Equal(ApprovalOutcome.Approved, (await reopened.DecideAsync(pending.Id, Approve("boss", T0), T0, Token)).Outcome);
    }
}
