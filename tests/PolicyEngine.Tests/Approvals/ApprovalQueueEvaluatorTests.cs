using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Approvals;

/// <summary>The evaluator's queue: approvers from the policy, self-approval, binding to the exact call, single use, events.</summary>
public sealed class ApprovalQueueEvaluatorTests
{
    private const string PolicyJson = """
        {
          "version": "2",
          "default": "deny",
          "tools": {
            "refund": {
              "approval": {
                "when": [ { "path": "args.amount", "op": "gt", "value": 100 } ],
                "reason": "large refunds need finance",
                "ttl": "10m",
                "approvers": [ { "path": "identity.roles", "op": "contains", "value": "finance" } ],
                "on_pending": "Finance will look at this refund.",
                "preview": [ "args.amount", "args.customer.id" ],
                "wait": "hold"
              }
            },
            "wire": {
              "approval": {
                "reason": "wires need two people",
                "approvers": [ { "path": "identity.roles", "op": "contains", "value": "finance" } ],
                "min_approvers": 2
              }
            },
            "legacy": { "approval": { "reason": "someone confirms" } }
          }
        }
        """;

    private static readonly PolicyIdentity Agent = PolicyIdentity.WithRoles("agent", "finance");
    private static readonly PolicyIdentity Fiona = PolicyIdentity.WithRoles("fiona", "finance");
    private static readonly PolicyIdentity Frank = PolicyIdentity.WithRoles("frank", "finance");
    private static readonly PolicyIdentity Eve = PolicyIdentity.WithRoles("eve", "support");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly PolicyEvaluator _evaluator;

    public ApprovalQueueEvaluatorTests() =>
        _evaluator = new PolicyEvaluator(Policy.Compile(PolicyDocument.Parse(PolicyJson)), timeProvider: _time);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static JsonElement Args(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private async Task<PendingApproval> Pending(string tool, JsonElement args)
    {
        var decision = _evaluator.Evaluate(Agent, tool, args);
        Assert.Equal(DecisionKind.NeedsApproval, decision.Kind);
        return await _evaluator.RequestApprovalAsync(decision, args, Token);
    }

    [Fact]
    public async Task Approver_Approves_RetriedCallRunsExactlyOnce()
    {
        var args = Args("""{"amount": 500, "customer": {"id": "c-7", "email": "x@example.com"}, "note": "secret"}""");
        var pending = await Pending("refund", args);

        var result = await _evaluator.ApproveAsync(pending.Id, Fiona, "checked the invoice", Token);

        Assert.Equal(ApprovalOutcome.Approved, result.Outcome);
        Assert.Equal(DecisionKind.Allow, _evaluator.Evaluate(Agent, "refund", args).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", args).Kind);
        Assert.Equal(ApprovalStatus.Consumed, (await _evaluator.GetApprovalAsync(pending.Id, Token))!.Status);
    }

    [Fact]
    public async Task Approval_DoesNotCoverAnotherArgumentValue()
    {
        var pending = await Pending("refund", Args("""{"amount": 500}"""));
        await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token);

        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", Args("""{"amount": 501}""")).Kind);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Fiona, "refund", Args("""{"amount": 500}""")).Kind);
        Assert.Equal(DecisionKind.Allow, _evaluator.Evaluate(Agent, "refund", Args("""{"amount": 500.0}""")).Kind);
    }

    [Fact]
    public async Task Request_HoldsNamesHashAndOnlyTheOptedInPreview()
    {
        var pending = await Pending("refund", Args("""{"note": "secret", "amount": 500, "customer": {"id": "c-7", "email": "x@example.com"}}"""));

        Assert.Equal(32, pending.Id.Length);
        Assert.Equal(["amount", "customer", "note"], pending.ArgumentNames);
        Assert.Equal(64, pending.ArgumentsSha256.Length);
        Assert.Equal(new Dictionary<string, string> { ["args.amount"] = "500", ["args.customer.id"] = "\"c-7\"" }, pending.Preview);
        Assert.DoesNotContain("secret", pending.ToJson(), StringComparison.Ordinal);
        Assert.DoesNotContain("x@example.com", pending.ToJson(), StringComparison.Ordinal);
        Assert.Equal(_time.GetUtcNow().AddMinutes(10), pending.ExpiresAt);
    }

    [Fact]
    public async Task Request_Ids_AreRandomAndTheSameCallKeepsItsRequest()
    {
        var first = await Pending("refund", Args("""{"amount": 500}"""));
        var again = await Pending("refund", Args("""{"amount": 500}"""));
        var other = await Pending("refund", Args("""{"amount": 600}"""));

        Assert.Equal(first.Id, again.Id);
        Assert.NotEqual(first.Id, other.Id);
        Assert.NotEqual(first.Fingerprint, first.Id);
    }

    [Fact]
    public async Task NonApprover_IsRefused_AndNothingIsApproved()
    {
        var args = Args("""{"amount": 500}""");
        var pending = await Pending("refund", args);

        var result = await _evaluator.ApproveAsync(pending.Id, Eve, null, Token);
        var denial = await _evaluator.DenyAsync(pending.Id, Eve, null, Token);

        Assert.Equal(ApprovalOutcome.NotAuthorized, result.Outcome);
        Assert.Equal(ApprovalOutcome.NotAuthorized, denial.Outcome);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", args).Kind);
        Assert.Equal(ApprovalStatus.Pending, (await _evaluator.GetApprovalAsync(pending.Id, Token))!.Status);
    }

    [Fact]
    public async Task Caller_CannotApproveItself_EvenWithTheApproverRole()
    {
        var args = Args("""{"amount": 500}""");
        var pending = await Pending("refund", args);

        var result = await _evaluator.ApproveAsync(pending.Id, PolicyIdentity.WithRoles("agent", "finance", "admin"), null, Token);

        Assert.Equal(ApprovalOutcome.SelfApproval, result.Outcome);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", args).Kind);
    }

    [Fact]
    public async Task RuleWithoutApprovers_RefusesQueueApprovals()
    {
        var pending = await Pending("legacy", Args("{}"));

        Assert.Equal(ApprovalOutcome.NotAuthorized, (await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token)).Outcome);
    }

    [Fact]
    public async Task MinApprovers_NeedsTwoDistinctApprovers()
    {
        var args = Args("""{"to": "x"}""");
        var pending = await Pending("wire", args);

        Assert.Equal(ApprovalOutcome.Recorded, (await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token)).Outcome);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "wire", args).Kind);
        Assert.Equal(ApprovalOutcome.AlreadyVoted, (await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token)).Outcome);
        Assert.Equal(ApprovalOutcome.Approved, (await _evaluator.ApproveAsync(pending.Id, Frank, null, Token)).Outcome);
        Assert.Equal(DecisionKind.Allow, _evaluator.Evaluate(Agent, "wire", args).Kind);
    }

    [Fact]
    public async Task Deny_IsFinal()
    {
        var args = Args("""{"amount": 500}""");
        var pending = await Pending("refund", args);

        Assert.Equal(ApprovalOutcome.Denied, (await _evaluator.DenyAsync(pending.Id, Fiona, "no", Token)).Outcome);
        Assert.Equal(ApprovalOutcome.NotPending, (await _evaluator.ApproveAsync(pending.Id, Frank, null, Token)).Outcome);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", args).Kind);
    }

    [Fact]
    public async Task Expired_RequestCannotBeApproved()
    {
        var args = Args("""{"amount": 500}""");
        var pending = await Pending("refund", args);
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(ApprovalOutcome.Expired, (await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token)).Outcome);
        Assert.Equal(DecisionKind.NeedsApproval, _evaluator.Evaluate(Agent, "refund", args).Kind);
    }

    [Fact]
    public async Task PolicyChange_RefusesVotesOnOlderRequests()
    {
        var pending = await Pending("refund", Args("""{"amount": 500}"""));
        _evaluator.Update(Policy.Compile(PolicyDocument.Parse(PolicyJson.Replace("large refunds", "big refunds", StringComparison.Ordinal))));

        Assert.Equal(ApprovalOutcome.PolicyChanged, (await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token)).Outcome);
    }

    [Fact]
    public async Task RequestApproval_WithOtherArguments_Throws()
    {
        var decision = _evaluator.Evaluate(Agent, "refund", Args("""{"amount": 500}"""));

        await Assert.ThrowsAsync<ArgumentException>(async () => await _evaluator.RequestApprovalAsync(decision, Args("""{"amount": 900}"""), Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await _evaluator.RequestApprovalAsync(_evaluator.Evaluate(Agent, "refund", Args("""{"amount": 5}""")), Args("""{"amount": 5}"""), Token));
    }

    [Fact]
    public async Task EveryTransition_IsAnEvent()
    {
        var events = new List<ApprovalEvent>();
        _evaluator.ApprovalChanged += (_, e) => events.Add(e);
        var args = Args("""{"amount": 500}""");
        var pending = await Pending("refund", args);
        await _evaluator.ApproveAsync(pending.Id, Eve, null, Token);
        await _evaluator.ApproveAsync(pending.Id, Fiona, "ok", Token);
        _evaluator.Evaluate(Agent, "refund", args);

        Assert.Equal([ApprovalEventKind.Requested, ApprovalEventKind.Refused, ApprovalEventKind.Approved, ApprovalEventKind.Consumed], events.Select(e => e.Kind));
        Assert.Equal("fiona", events[2].ApproverId);
        Assert.Equal("ok", events[2].Comment);
        Assert.Equal(pending.Fingerprint, events[3].RequestId);
    }

    [Fact]
    public async Task Wait_WakesWhenAnApproverActs()
    {
        var pending = await Pending("refund", Args("""{"amount": 500}"""));
        var waiting = _evaluator.WaitForApprovalAsync(pending.Id, TimeSpan.FromHours(1), Token).AsTask();
        Assert.False(waiting.IsCompleted);

        await _evaluator.ApproveAsync(pending.Id, Fiona, null, Token);
        var done = await waiting.WaitAsync(TimeSpan.FromSeconds(30), Token);

        Assert.Equal(ApprovalStatus.Approved, done!.Status);
    }

    [Fact]
    public void Rule_ExposesWaitModeAndMessage()
    {
        var approval = _evaluator.Evaluate(Agent, "refund", Args("""{"amount": 500}""")).Approval!;

        Assert.Equal(ApprovalWaitMode.Hold, approval.Wait);
        Assert.True(approval.HasApprovers);
        Assert.Equal("Finance will look at this refund.", approval.OnPending);
        Assert.False(_evaluator.Evaluate(Agent, "legacy", Args("{}")).Approval!.HasApprovers);
    }

    [Fact]
    public async Task PendingMessage_NamesTheRequestId()
    {
        var pending = await Pending("refund", Args("""{"amount": 500}"""));

        var message = PolicyEvaluator.PendingMessage(pending, "Finance will look at this refund.");

        Assert.StartsWith("Finance will look at this refund.", message, StringComparison.Ordinal);
        Assert.Contains(pending.Id, message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsApprover_FollowsThePolicysApprovers()
    {
        Assert.True(_evaluator.IsApprover(Fiona));
        Assert.False(_evaluator.IsApprover(Eve));
        Assert.False(_evaluator.IsApprover(new PolicyIdentity("nobody")));
    }

    [Fact]
    public void Explain_SaysWhoMayApprove()
    {
        var steps = PolicyExplainer.Explain(_evaluator.Policy, Agent, "wire", Args("{}"));
        var legacy = PolicyExplainer.Explain(_evaluator.Policy, Agent, "legacy", Args("{}"));

        Assert.Contains(steps, s => s.Detail.Contains("2 distinct approvers", StringComparison.Ordinal) && s.Detail.Contains("never the caller", StringComparison.Ordinal));
        Assert.Contains(legacy, s => s.Detail.Contains("no approvers named", StringComparison.Ordinal));
    }
}
