using Microsoft.Extensions.Logging;

namespace PolicyEngine.ModelContextProtocol;

// The guard's log: every decision (with the store failure that made it, if any) and its source-generated log messages.
// Code moved unchanged from PolicyGuard.cs.
public sealed partial class PolicyGuard
{
    private void OnDecision(object? sender, DecisionEvent e)
    {
        var decision = e.Decision;
        if (e.StoreError is { } storeError)
        {
            // A store failure decided the call: say why, with the store's exception.
            LogStoreFailure(_logger, e.Tool, e.IdentityId, decision.Kind, decision.Rule, storeError);
            return;
        }

        var level = decision.Kind == DecisionKind.Allow ? LogLevel.Debug : LogLevel.Information;
        if (_logger.IsEnabled(level))
        {
            LogDecision(_logger, level, e.Tool, e.IdentityId, decision.Kind, decision.Rule, decision.Reason, decision.PolicyVersion, e.ArgumentsSha256, string.Join(",", e.ArgumentNames));
        }
    }

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "policy decision made by a failing store: {Tool} for {IdentityId} -> {Kind} by {Rule}")]
    private static partial void LogStoreFailure(ILogger logger, string tool, string identityId, DecisionKind kind, string? rule, Exception error);

    [LoggerMessage(EventId = 1, Message = "policy decision: {Tool} for {IdentityId} -> {Kind} by {Rule} ({Reason}); policy {PolicyVersion}, args sha256 {ArgumentsSha256}, arg names [{ArgumentNames}]")]
    private static partial void LogDecision(ILogger logger, LogLevel level, string tool, string identityId, DecisionKind kind, string? rule, string? reason, string policyVersion, string argumentsSha256, string argumentNames);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "policy loaded from {Path}: version {PolicyVersion}")]
    private static partial void LogPolicyLoaded(ILogger logger, string path, string policyVersion);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "policy reload rejected: {Path} has {Count} problem(s); the policy in force is kept")]
    private static partial void LogReloadRejected(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "policy problem in {Path} at {Pointer}: {Problem}")]
    private static partial void LogPolicyError(ILogger logger, string path, string pointer, string problem);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "policy reload failed: cannot read {Path} ({Problem}); the policy in force is kept")]
    private static partial void LogReloadUnreadable(ILogger logger, string path, string problem);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "malformed tools/call denied: {Problem}")]
    private static partial void LogMalformed(ILogger logger, string problem);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "approval for {Tool} by {IdentityId}: {Outcome}")]
    private static partial void LogApproval(ILogger logger, string tool, string identityId, string outcome);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "approval for {Tool} by {IdentityId} failed: {Problem}")]
    private static partial void LogApprovalFailed(ILogger logger, string tool, string identityId, string problem);

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "tools/call for {Tool}, a tool this server does not have: answered as an unknown tool")]
    private static partial void LogUnknownTool(ILogger logger, string tool);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "limits not enforced for {Tool} by {IdentityId}: the counter store is unavailable and the guard fails open")]
    private static partial void LogUnenforced(ILogger logger, string tool, string identityId);
}
