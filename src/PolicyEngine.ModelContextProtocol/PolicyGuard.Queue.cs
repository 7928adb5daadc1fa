using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.ModelContextProtocol;

// The guard's approval queue: a call that needs approvers' approval is queued, then either answered at once with the
// request id (the agent retries the same call once approved) or held open until an approver acts.
public sealed partial class PolicyGuard
{
    /// <summary>
    /// The wait mode for a request: the rule's <c>wait</c>, else the host's <see cref="PolicyEngineMcpOptions.ApprovalWait"/>;
    /// <see cref="ApprovalWaitMode.Auto"/> is elicitation without approvers and return with them, and a rule with
    /// approvers never elicits (the caller never approves its own call).
    /// </summary>
    /// <param name="approval">The request from a needs-approval decision.</param>
    /// <returns><see cref="ApprovalWaitMode.Return"/>, <see cref="ApprovalWaitMode.Hold"/> or <see cref="ApprovalWaitMode.Elicit"/>.</returns>
    public ApprovalWaitMode WaitModeFor(ApprovalRequest approval)
    {
        ArgumentNullException.ThrowIfNull(approval);
        var mode = approval.Wait != ApprovalWaitMode.Auto ? approval.Wait : _approvalWait;
        if (mode == ApprovalWaitMode.Auto)
        {
            mode = approval.HasApprovers ? ApprovalWaitMode.Return : ApprovalWaitMode.Elicit;
        }

        return mode == ApprovalWaitMode.Elicit && approval.HasApprovers ? ApprovalWaitMode.Return : mode;
    }

    /// <returns><see langword="null"/> when approvers approved (evaluate again: the approval is consumed); otherwise the answer.</returns>
    private async ValueTask<CallToolResult?> QueueForApprovalAsync(
        RequestContext<CallToolRequestParams> context,
        string tool,
        IReadOnlyDictionary<string, JsonElement>? args,
        Decision decision,
        CancellationToken cancellationToken)
    {
        var approval = decision.Approval!;
        PendingApproval pending;
        try
        {
            pending = await Evaluator.RequestApprovalAsync(decision, args, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            // A queue that cannot take the request never lets the call run.
            LogApprovalFailed(_logger, tool, approval.IdentityId, ex.Message);
            _audit?.RecordApproval(approval, "failed");
            return Error($"Call to '{tool}' denied: it needs approval ({approval.Reason}), but the approval request could not be queued. The call was not run.");
        }

        ApprovalStep(tool, approval, "queued");
        if (WaitModeFor(approval) != ApprovalWaitMode.Hold)
        {
            return Pending(pending, approval);
        }

        var deadline = _clock.GetUtcNow() + _approvalHold;
        var progressToken = context.Params?.ProgressToken;
        var step = 0;
        while (true)
        {
            var left = deadline - _clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                ApprovalStep(tool, approval, "still pending");
                return Pending(pending, approval);
            }

            PendingApproval? current;
            try
            {
                current = await Evaluator.WaitForApprovalAsync(pending.Id, left < _approvalProgress ? left : _approvalProgress, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                LogApprovalFailed(_logger, tool, approval.IdentityId, ex.Message);
                return Error($"Call to '{tool}' denied: the approval queue could not be read ({approval.Reason}). The call was not run.");
            }

            switch (current?.StatusAt(_clock.GetUtcNow()))
            {
                case ApprovalStatus.Approved:
                    ApprovalStep(tool, approval, "approved");
                    return null;
                case ApprovalStatus.Denied:
                    ApprovalStep(tool, approval, "denied");
                    return Error(DeniedText(tool, current!));
                case ApprovalStatus.Pending:
                    await ReportProgressAsync(context, progressToken, ++step, pending, cancellationToken).ConfigureAwait(false);
                    continue;
                case ApprovalStatus.Consumed:
                    return Error($"Call to '{tool}' was approved, but the approval was already used by another identical call. Call it again to ask anew.");
                default:
                    ApprovalStep(tool, approval, "expired");
                    return Error($"Call to '{tool}' denied: nobody approved it before the request expired ({approval.Reason}). The call was not run.");
            }
        }
    }

    /// <summary>The answer for a call left waiting: not run, the request id, and what to do next.</summary>
    private static CallToolResult Pending(PendingApproval pending, ApprovalRequest approval) =>
        Error(PolicyEvaluator.PendingMessage(pending, approval.OnPending));

    private static string DeniedText(string tool, PendingApproval request)
    {
        var comment = string.Empty;
        foreach (var vote in request.Votes)
        {
            if (!vote.Approve && vote.Comment is { Length: > 0 } text)
            {
                comment = $" Approver's comment: {text}";
            }
        }

        return $"Call to '{tool}' denied by an approver ({request.Reason}). The call was not run.{comment}";
    }

    /// <summary>A progress notification while the call is held (best effort: a client that went away does not fail the wait).</summary>
    private async ValueTask ReportProgressAsync(RequestContext<CallToolRequestParams> context, ProgressToken? token, int step, PendingApproval pending, CancellationToken cancellationToken)
    {
        if (token is not { } progressToken)
        {
            return;
        }

        try
        {
            await context.Server.NotifyProgressAsync(
                new ProgressNotificationParams
                {
                    ProgressToken = progressToken,
                    Progress = new ProgressNotificationValue
                    {
                        Progress = step,
                        Message = string.Create(CultureInfo.InvariantCulture, $"waiting for approval of request {pending.Id} ({pending.Approvals}/{pending.MinApprovers} approvals)"),
                    },
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            LogApprovalFailed(_logger, pending.Tool, pending.IdentityId, "progress notification failed: " + ex.Message);
        }
    }
}
