using System.Text.Json;
using Microsoft.Extensions.Logging;
using PolicyEngine.Audit;

namespace PolicyEngine.ModelContextProtocol;

// The guard's operations features: the audit trail (PolicyEngineMcpOptions.AuditPath / AuditTrail) and shadow mode
// (PolicyEngineMcpOptions.ShadowPolicyPath). Every evaluation, completion and approval of the guard goes through the
// helpers below, so a shadow candidate sees exactly the calls the enforced policy sees.
public sealed partial class PolicyGuard
{
    private ShadowPolicyEvaluator? _shadow;
    private AuditTrail? _audit;
    private bool _ownsAudit;
    private readonly List<IDisposable> _auditSubscriptions = [];

    /// <summary>
    /// The shadow evaluator when <see cref="PolicyEngineMcpOptions.ShadowPolicyPath"/> is set: it evaluates the candidate
    /// policy beside <see cref="Evaluator"/> on every call and reports disagreements; <see langword="null"/> otherwise.
    /// </summary>
    public ShadowPolicyEvaluator? Shadow => _shadow;

    /// <summary>The audit trail the guard writes, or <see langword="null"/> when none is configured.</summary>
    public AuditTrail? AuditTrail => _audit;

    /// <summary>Opens the audit trail and loads the shadow candidate; called by the constructor once the evaluator exists.</summary>
    private void StartOperations(PolicyEngineMcpOptions options, ICounterStore? counterStore, TimeProvider? timeProvider)
    {
        if (options.AuditTrail is { } trail)
        {
            _audit = trail;
        }
        else if (!string.IsNullOrEmpty(options.AuditPath))
        {
            try
            {
                _audit = AuditTrail.ToFile(options.AuditPath, new AuditTrailOptions { MaxFileBytes = options.AuditMaxFileBytes }, timeProvider);
                _ownsAudit = true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new PolicyGuardException($"cannot open the audit trail '{options.AuditPath}': {ex.Message}", ex);
            }
        }

        if (_audit is not null)
        {
            _auditSubscriptions.Add(_audit.Attach(Evaluator));
            AuditPolicy("loaded", Evaluator.Policy.Version);
        }

        if (string.IsNullOrEmpty(options.ShadowPolicyPath))
        {
            return;
        }

        var path = Path.GetFullPath(options.ShadowPolicyPath);
        Policy candidate;
        try
        {
            candidate = Policy.Compile(_load(path));
        }
        catch (PolicyValidationException ex)
        {
            foreach (var error in ex.Errors)
            {
                LogPolicyError(_logger, path, error.Pointer.Length == 0 ? "(root)" : error.Pointer, error.Message);
            }

            StopOperations();
            throw new PolicyGuardException($"the shadow policy '{path}' is invalid: {string.Join("; ", ex.Errors)}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            StopOperations();
            throw new PolicyGuardException($"cannot read the shadow policy '{path}': {ex.Message}", ex);
        }

        _shadow = new ShadowPolicyEvaluator(Evaluator, candidate, counterStore, timeProvider);
        _shadow.Disagreement += OnDisagreement;
        if (_audit is not null)
        {
            _auditSubscriptions.Add(_audit.Attach(_shadow));
        }

        LogShadowLoaded(_logger, path, candidate.Version);
        _audit?.RecordPolicy("shadow", path, "loaded", candidate.Version);
    }

    /// <summary>Detaches from the evaluators and closes a trail the guard opened (writing what is queued).</summary>
    private void StopOperations()
    {
        foreach (var subscription in _auditSubscriptions)
        {
            subscription.Dispose();
        }

        _auditSubscriptions.Clear();
        if (_shadow is not null)
        {
            _shadow.Disagreement -= OnDisagreement;
        }

        if (_ownsAudit)
        {
            _audit?.Dispose();
            _ownsAudit = false;
        }
    }

    /// <summary>One call's decision, and the shadow's pair of decisions when a candidate runs beside the policy.</summary>
    private readonly record struct GuardCall(Decision Decision, ShadowDecision? Shadow);

    private async ValueTask<GuardCall> EvaluateAsync(PolicyIdentity identity, string tool, IReadOnlyDictionary<string, JsonElement>? args, CancellationToken cancellationToken)
    {
        if (_shadow is { } shadow)
        {
            var both = await shadow.EvaluateAsync(identity, tool, args, cancellationToken).ConfigureAwait(false);
            return new GuardCall(both.Enforced, both);
        }

        return new GuardCall(await Evaluator.EvaluateAsync(identity, tool, args, cancellationToken).ConfigureAwait(false), null);
    }

    private ValueTask CompleteAsync(GuardCall call, bool succeeded, CancellationToken cancellationToken) =>
        _shadow is { } shadow && call.Shadow is { } both
            ? shadow.CompleteAsync(both, succeeded, cancellationToken)
            : Evaluator.CompleteAsync(call.Decision, succeeded, cancellationToken);

    private ValueTask ApproveAsync(ApprovalRequest approval, CancellationToken cancellationToken) =>
        _shadow is { } shadow
            ? shadow.ApproveAsync(approval, cancellationToken)
            : Evaluator.ApproveAsync(approval, cancellationToken);

    /// <summary>Logs a step of an approval request and records it in the audit trail.</summary>
    private void ApprovalStep(string tool, ApprovalRequest approval, string outcome)
    {
        LogApproval(_logger, tool, approval.IdentityId, outcome);
        _audit?.RecordApproval(approval, outcome switch
        {
            "timed out" => "timed_out",
            "decline" => "declined",
            "cancel" => "cancelled",
            "accept" => "declined",
            _ => outcome.Replace(' ', '_'),
        });
    }

    private void AuditPolicy(string outcome, string? version, int problems = 0) =>
        _audit?.RecordPolicy("enforced", _policyPath ?? "(in code)", outcome, version, problems);

    private void OnDisagreement(object? sender, ShadowDisagreement e) =>
        LogShadowDisagreement(_logger, e.Tool, e.IdentityId, e.Kinds, e.Enforced.Rule, e.Candidate.Rule, e.Candidate.Reason);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "shadow policy loaded from {Path}: version {PolicyVersion}")]
    private static partial void LogShadowLoaded(ILogger logger, string path, string policyVersion);

    [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "shadow disagreement: {Tool} for {IdentityId}: {Kinds} (enforced by {EnforcedRule}; candidate by {CandidateRule}: {CandidateReason})")]
    private static partial void LogShadowDisagreement(ILogger logger, string tool, string identityId, string kinds, string? enforcedRule, string? candidateRule, string? candidateReason);
}
