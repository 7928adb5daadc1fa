using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.ModelContextProtocol;

// The guard's approvals: asking the person through MCP elicitation and granting the exact call. Code moved unchanged
// from PolicyGuard.cs.
public sealed partial class PolicyGuard
{
    /// <returns><see langword="null"/> when a person approved; otherwise the denial to return.</returns>
    private async ValueTask<CallToolResult?> AskForApprovalAsync(
        McpServer server,
        string tool,
        IReadOnlyDictionary<string, JsonElement>? args,
        ApprovalRequest approval,
        CancellationToken cancellationToken)
    {
        if (server.ClientCapabilities?.Elicitation is null)
        {
            ApprovalStep(tool, approval, "unavailable");
            return Error($"Call to '{tool}' needs a person's approval ({approval.Reason}), but this client cannot ask one " +
                "(it does not support elicitation). The call was not run.");
        }

        _audit?.RecordApproval(approval, "requested");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_elicitationTimeout);
        ElicitResult answer;
        try
        {
            answer = await server.ElicitAsync(
                new ElicitRequestParams
                {
                    Message = ApprovalMessage(tool, args, approval),
                    RequestedSchema = new ElicitRequestParams.RequestSchema
                    {
                        Properties =
                        {
                            [ApproveField] = new ElicitRequestParams.BooleanSchema
                            {
                                Title = "Approve",
                                Description = $"Allow this one call to '{tool}'",
                            },
                        },
                        Required = [ApproveField],
                    },
                },
                timeout.Token).ConfigureAwait(false);
        }
        catch (InputRequiredException)
        {
            // The SDK asks the client out of band and runs the filter again with the answer: nothing was charged.
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            ApprovalStep(tool, approval, "timed out");
            return Error(string.Create(
                CultureInfo.InvariantCulture,
                $"Call to '{tool}' denied: nobody approved it within {_elicitationTimeout.TotalSeconds:0} seconds ({approval.Reason}). The call was not run."));
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            LogApprovalFailed(_logger, tool, approval.IdentityId, ex.Message);
            _audit?.RecordApproval(approval, "failed");
            return Error($"Call to '{tool}' denied: the approval request could not be completed ({approval.Reason}). The call was not run.");
        }

        if (IsApproved(answer))
        {
            ApprovalStep(tool, approval, "approved");
            return null;
        }

        var action = answer.Action ?? "no answer";
        ApprovalStep(tool, approval, action);
        return Error($"Call to '{tool}' denied: a person did not approve it ({action}; {approval.Reason}). The call was not run.");
    }

    /// <summary>Accepted, and the form's <c>approve</c> field is not <c>false</c>.</summary>
    private static bool IsApproved(ElicitResult answer)
    {
        if (!string.Equals(answer.Action, "accept", StringComparison.Ordinal))
        {
            return false;
        }

        if (answer.Content is { } content && content.TryGetValue(ApproveField, out var value))
        {
            return value.ValueKind == JsonValueKind.True
                || (value.ValueKind == JsonValueKind.String && string.Equals(value.GetString(), "true", StringComparison.OrdinalIgnoreCase));
        }

        return false;
    }

    private static string ApprovalMessage(string tool, IReadOnlyDictionary<string, JsonElement>? args, ApprovalRequest approval)
    {
        const int MaxShown = 600;
        var shown = args is null || args.Count == 0 ? "{}" : JsonSerializer.Serialize(args, PolicyGuardJsonContext.Default.IReadOnlyDictionaryStringJsonElement);
        if (shown.Length > MaxShown)
        {
            shown = string.Concat(shown.AsSpan(0, MaxShown), "…");
        }

        return $"Approve a call to '{tool}' by '{approval.IdentityId}'? {approval.Reason}\nArguments: {shown}";
    }
}
