using PolicyEngine.Approvals;

namespace PolicyEngine.Audit;

// The queued entries: each knows its record type and writes its own fields (on the writer thread, not the decision's).
public sealed partial class AuditTrail
{
    private abstract class Entry(DateTimeOffset time, string type)
    {
        public DateTimeOffset Time { get; } = time;

        public string Type { get; } = type;

        public abstract void WriteFields(AuditRecordBuilder record);
    }

    private sealed class DecisionEntry(DecisionEvent e) : Entry(e.Timestamp, AuditRecordTypes.Decision)
    {
        public override void WriteFields(AuditRecordBuilder record)
        {
            var decision = e.Decision;
            record.String("identity", e.IdentityId).String("tool", e.Tool).String("kind", AuditRecordTypes.KindName(decision.Kind))
                .String("rule", decision.Rule).String("reason", decision.Reason).String("policy_version", decision.PolicyVersion)
                .String("args_sha256", e.ArgumentsSha256).Strings("arg_names", e.ArgumentNames);
            if (e.StoreError is { } error)
            {
                // Why a store failure decided this call: the exception's type and message (never arguments).
                record.String("store_error", $"{error.GetType().FullName}: {error.Message}");
            }
            if (e.Decision.RetryAfter is { } retryAfter)
            {
                record.Number("retry_after_ms", (long)Math.Ceiling(retryAfter.TotalMilliseconds));
            }

            if (e.Decision.Approval is { } approval)
            {
                record.String("approval_id", approval.Id);
            }

            if (e.Decision.IsUnenforced)
            {
                record.Boolean("unenforced", true);
            }
        }
    }

    private sealed class ShadowEntry(ShadowDisagreement e) : Entry(e.Timestamp, AuditRecordTypes.Shadow)
    {
        public override void WriteFields(AuditRecordBuilder record) =>
            record.String("identity", e.IdentityId).String("tool", e.Tool).String("kinds", e.Kinds)
                .String("enforced_kind", AuditRecordTypes.KindName(e.Enforced.Kind)).String("enforced_rule", e.Enforced.Rule)
                .String("candidate_kind", AuditRecordTypes.KindName(e.Candidate.Kind)).String("candidate_rule", e.Candidate.Rule)
                .String("candidate_reason", e.Candidate.Reason)
                .String("policy_version", e.Enforced.PolicyVersion).String("candidate_policy_version", e.Candidate.PolicyVersion)
                .String("args_sha256", e.ArgumentsSha256).Strings("arg_names", e.ArgumentNames);
    }

    private sealed class ApprovalEntry(DateTimeOffset time, ApprovalRequest request, string outcome) : Entry(time, AuditRecordTypes.Approval)
    {
        public override void WriteFields(AuditRecordBuilder record) =>
            record.String("identity", request.IdentityId).String("tool", request.Tool).String("outcome", outcome)
                .String("approval_id", request.Id).String("rule", request.Rule).String("reason", request.Reason)
                .String("policy_version", request.PolicyVersion);
    }

    private sealed class QueueEntry(ApprovalEvent change) : Entry(change.At, AuditRecordTypes.ApprovalQueue)
    {
        public override void WriteFields(AuditRecordBuilder record)
        {
            record.String("identity", change.IdentityId).String("tool", change.Tool)
                .String("event", ApprovalEventKindNames.Of(change.Kind))
                .String("request_id", change.RequestId);
            if (change.ApproverId is not null)
            {
                record.String("approver", change.ApproverId);
            }

            if (change.Comment is not null)
            {
                record.String("comment", change.Comment);
            }

            if (change.Outcome is { } outcome)
            {
                record.String("outcome", outcome.ToString());
            }
        }
    }

    private sealed class PolicyEntry(DateTimeOffset time, string role, string source, string outcome, string? version, int problems) : Entry(time, AuditRecordTypes.Policy)
    {
        public override void WriteFields(AuditRecordBuilder record)
        {
            record.String("role", role).String("source", source).String("outcome", outcome).String("policy_version", version);
            if (problems > 0)
            {
                record.Number("problems", problems);
            }
        }
    }

    private sealed class GapEntry(DateTimeOffset time, long dropped) : Entry(time, AuditRecordTypes.Gap)
    {
        public override void WriteFields(AuditRecordBuilder record) => record.Number("dropped", dropped);
    }

    private sealed class OpenEntry(DateTimeOffset time, long continuesAfter) : Entry(time, AuditRecordTypes.Open)
    {
        public override void WriteFields(AuditRecordBuilder record) =>
            record.String("writer", "PolicyEngine.Audit " + typeof(AuditTrail).Assembly.GetName().Version?.ToString(3))
                .Number("continues_after", continuesAfter);
    }

    private sealed class FlushEntry() : Entry(default, string.Empty)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void WriteFields(AuditRecordBuilder record)
        {
        }
    }
}
