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

/// <summary>
/// Puts one policy in front of an MCP server's tools: guards <c>tools/call</c>, filters <c>tools/list</c>, asks a
/// person through elicitation when a call needs approval, reloads the policy file, and logs every decision.
/// One guard serves every session of a server; it is thread-safe.
/// </summary>
/// <remarks>
/// Register it with <c>services.AddPolicyEngine(...)</c> and attach it with <c>builder.WithPolicyEngine()</c>;
/// construct it directly only to host it yourself.
/// </remarks>
public sealed partial class PolicyGuard : IDisposable
{
    /// <summary>The key of the boolean field in the approval form a person answers.</summary>
    public const string ApproveField = "approve";

    private readonly ILogger _logger;
    private readonly string? _policyPath;
    private readonly Func<string, PolicyDocument> _load;
    private readonly PolicyIdentity _defaultIdentity;
    private readonly Func<ClaimsPrincipal?, IServiceProvider?, PolicyIdentity>? _mapIdentity;
    private readonly TimeSpan _elicitationTimeout;
    private readonly ApprovalWaitMode _approvalWait;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _approvalHold;
    private readonly TimeSpan _approvalProgress;
    private readonly TimeSpan _debounce;
    private readonly int _maxArgumentsBytes;
    private readonly Func<RequestContext<CallToolRequestParams>, CancellationToken, ValueTask<bool>>? _toolExists;
    private readonly bool _hideNeverAllowed;
    private readonly object _reloadLock = new();
    private PhysicalFileProvider? _fileProvider;
    private IDisposable? _changeRegistration;
    private Timer? _debounceTimer;
    private string? _loadedText;
    private bool _disposed;

    /// <summary>Creates a guard and loads its policy.</summary>
    /// <param name="options">The options; copied, so later changes have no effect.</param>
    /// <param name="logger">Where decisions and reloads are logged.</param>
    /// <param name="counterStore">Where limit counters live (default: in memory, this process only).</param>
    /// <param name="approvalStore">Where granted approvals wait (default: in memory).</param>
    /// <param name="timeProvider">The clock (default: the system clock).</param>
    /// <exception cref="PolicyGuardException">The options are invalid or the policy cannot be loaded.</exception>
    public PolicyGuard(
        PolicyEngineMcpOptions options,
        ILogger<PolicyGuard>? logger = null,
        ICounterStore? counterStore = null,
        IApprovalStore? approvalStore = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var problems = PolicyEngineMcpOptionsValidator.Problems(options);
        if (problems.Count > 0)
        {
            throw new PolicyGuardException(
                $"the PolicyEngine options are invalid ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", problems));
        }

        _elicitationTimeout = options.ElicitationTimeout;
        _approvalWait = options.ApprovalWait;
        _clock = timeProvider ?? TimeProvider.System;
        _approvalHold = options.ApprovalHoldTimeout;
        _approvalProgress = options.ApprovalProgressInterval;
        _debounce = options.ReloadDebounce;
        _hideNeverAllowed = options.HideNeverAllowedTools;
        _maxArgumentsBytes = options.MaxArgumentsBytes;
        _mapIdentity = options.IdentityMapper;
        _toolExists = options.ToolExists;
        _defaultIdentity = options.IdentityRoles.Count == 0
            ? new PolicyIdentity(options.Identity)
            : PolicyIdentity.WithRoles(options.Identity, [.. options.IdentityRoles]);
        _load = options.DocumentLoader ?? LoaderFor(options.Format);

        Policy policy;
        if (options.Policy is { } given)
        {
            policy = given;
        }
        else
        {
            _policyPath = Path.GetFullPath(options.PolicyPath!);
            policy = LoadInitial(_policyPath);
        }

        Evaluator = new PolicyEvaluator(
            policy,
            counterStore,
            approvalStore,
            timeProvider,
            new PolicyEvaluatorOptions { StoreFailureMode = options.StoreFailureMode, StoreTimeout = options.StoreTimeout });
        Evaluator.DecisionMade += OnDecision;
        StartOperations(options, counterStore, timeProvider);
        LogPolicyLoaded(_logger, _policyPath ?? "(in code)", policy.Version);

        if (_policyPath is not null && options.ReloadOnChange)
        {
            StartWatching(_policyPath);
        }
    }

    /// <summary>The evaluator the guard asks; use it for decisions outside MCP (it shares counters and policy).</summary>
    public PolicyEvaluator Evaluator { get; }

    /// <summary>The full path of the watched policy file, or <see langword="null"/> for a policy given in code.</summary>
    public string? PolicyPath => _policyPath;

    /// <summary>
    /// Reloads the policy file now. A valid file replaces the policy atomically (counters keep their values); an
    /// invalid one keeps the policy in force and logs every problem with its JSON Pointer.
    /// </summary>
    /// <returns><see langword="true"/> when a new policy is in force.</returns>
    public bool Reload()
    {
        if (_policyPath is null)
        {
            return false;
        }

        lock (_reloadLock)
        {
            string text;
            try
            {
                text = File.ReadAllText(_policyPath);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogReloadUnreadable(_logger, _policyPath, ex.Message);
                AuditPolicy("unreadable", null);
                return false;
            }

            if (string.Equals(text, _loadedText, StringComparison.Ordinal))
            {
                return false;
            }

            try
            {
                var policy = Policy.Compile(_load(_policyPath));
                Evaluator.Update(policy);
                _loadedText = text;
                LogPolicyLoaded(_logger, _policyPath, policy.Version);
                AuditPolicy("loaded", policy.Version);
                return true;
            }
            catch (PolicyValidationException ex)
            {
                LogReloadRejected(_logger, _policyPath, ex.Errors.Count);
                AuditPolicy("rejected", null, ex.Errors.Count);
                foreach (var error in ex.Errors)
                {
                    LogPolicyError(_logger, _policyPath, error.Pointer.Length == 0 ? "(root)" : error.Pointer, error.Message);
                }

                return false;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
            {
                LogReloadUnreadable(_logger, _policyPath, ex.Message);
                AuditPolicy("unreadable", null);
                return false;
            }
        }
    }

    /// <summary>
    /// The identity a request is evaluated as: the mapper's answer when one is configured; otherwise an
    /// authenticated user's claims, or the configured default identity.
    /// </summary>
    /// <param name="user">The request's user, if any.</param>
    /// <param name="services">The request's services, if any.</param>
    /// <returns>The identity.</returns>
    public PolicyIdentity ResolveIdentity(ClaimsPrincipal? user, IServiceProvider? services)
    {
        if (_mapIdentity is not null)
        {
            return _mapIdentity(user, services) ?? _defaultIdentity;
        }

        return user?.Identity?.IsAuthenticated == true
            ? PolicyIdentity.FromClaimsPrincipal(user, _defaultIdentity.Id)
            : _defaultIdentity;
    }

    /// <summary>
    /// The <c>tools/call</c> filter: evaluates the call, resolves approvals, runs <paramref name="next"/> only when
    /// the call is allowed, and commits or returns the call's quota by its outcome. A call to a tool the server
    /// does not have, or to a tool the policy hides, is answered exactly as the SDK answers a call to an unknown
    /// tool (see <see cref="PolicyEngineMcpOptions.ToolExists"/>).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The rest of the pipeline (the tool).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The tool's result, or an error result explaining the denial.</returns>
    /// <exception cref="McpProtocolException">
    /// The tool does not exist or is hidden: the SDK's unknown-tool error (<see cref="McpErrorCode.InvalidParams"/>).
    /// </exception>
    public async ValueTask<CallToolResult> CallToolAsync(
        RequestContext<CallToolRequestParams> context,
        McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.Params;
        var tool = request?.Name;
        if (string.IsNullOrEmpty(tool))
        {
            LogMalformed(_logger, "the call names no tool");
            return Error("Call denied: the request names no tool (params.name is required).");
        }

        // A tool that does not exist gets the SDK's unknown-tool answer before anything else (the arguments' size
        // included), whatever the policy's default; a hidden tool below gets the very same answer.
        if (!await ExistsAsync(context, cancellationToken).ConfigureAwait(false))
        {
            LogUnknownTool(_logger, tool);
            throw UnknownTool(tool);
        }

        var identity = ResolveIdentity(context.User, context.Services);
        var args = AsReadOnly(request!.Arguments);
        if (args is not null && MeasureBytes(args, _maxArgumentsBytes) > _maxArgumentsBytes)
        {
            if (!Evaluator.IsVisible(identity, tool))
            {
                // Evaluated only to record the (hidden) decision for the host's audit trail.
                var hidden = await EvaluateAsync(identity, tool, args, cancellationToken).ConfigureAwait(false);
                if (IsHidden(hidden.Decision))
                {
                    throw UnknownTool(tool);
                }

                await CompleteAsync(hidden, succeeded: false, CancellationToken.None).ConfigureAwait(false);
            }

            LogMalformed(_logger, $"arguments of '{tool}' exceed {_maxArgumentsBytes} bytes");
            return Error(string.Create(
                CultureInfo.InvariantCulture,
                $"Call to '{tool}' denied: its arguments are larger than the {_maxArgumentsBytes} bytes this server accepts. Send less data."));
        }

        var call = await EvaluateAsync(identity, tool, args, cancellationToken).ConfigureAwait(false);
        var decision = call.Decision;
        if (IsHidden(decision))
        {
            // The decision event (rule "(hidden)") is the host's record; the agent sees an unknown tool.
            throw UnknownTool(tool);
        }

        if (decision.Kind == DecisionKind.NeedsApproval)
        {
            var approval = decision.Approval!;
            if (WaitModeFor(approval) == ApprovalWaitMode.Elicit)
            {
                if (await AskForApprovalAsync(context.Server, tool, args, approval, cancellationToken).ConfigureAwait(false) is { } refusal)
                {
                    return refusal;
                }

                await ApproveAsync(approval, cancellationToken).ConfigureAwait(false);
            }
            else if (await QueueForApprovalAsync(context, tool, args, decision, cancellationToken).ConfigureAwait(false) is { } answer)
            {
                // Returned at once with the request id, denied by an approver, or still pending when the hold ran out.
                return answer;
            }

            call = await EvaluateAsync(identity, tool, args, cancellationToken).ConfigureAwait(false);
            decision = call.Decision;
            if (IsHidden(decision))
            {
                // The policy changed while a person was deciding, and now hides the tool.
                throw UnknownTool(tool);
            }

            if (decision.Kind == DecisionKind.NeedsApproval)
            {
                // The policy changed between the question and the answer: the approval was for another version.
                return Error($"Call to '{tool}' needs approval again: the policy changed while a person was deciding. Call it again.");
            }
        }

        if (!decision.IsAllowed)
        {
            return Refusal(tool, decision);
        }

        if (decision.IsUnenforced)
        {
            LogUnenforced(_logger, tool, identity.Id);
        }

        CallToolResult result;
        try
        {
            result = await next(context, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The tool did not complete (it failed, was cancelled, or the SDK suspends it to ask the client for
            // input and will run this filter again): give the quota back so a re-run is not charged twice.
            await CompleteAsync(call, succeeded: false, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await CompleteAsync(call, succeeded: result.IsError != true, CancellationToken.None).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The <c>tools/list</c> filter: removes the tools the policy hides from the caller, and with
    /// <see cref="PolicyEngineMcpOptions.HideNeverAllowedTools"/> those it can never allow them. It follows the server's
    /// <c>nextCursor</c> itself and returns every visible tool in one page, so that no page boundary (an empty or
    /// short page) shows where hidden tools were taken out.
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The listed tools, without the hidden ones.</returns>
    public async ValueTask<ListToolsResult> ListToolsAsync(
        RequestContext<ListToolsRequestParams> context,
        McpRequestHandler<ListToolsRequestParams, ListToolsResult> next,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        const int MaxPages = 1000;
        var identity = ResolveIdentity(context.User, context.Services);
        var requested = context.Params;
        var result = await next(context, cancellationToken).ConfigureAwait(false);
        var visible = new List<Tool>(result.Tools.Count);
        for (var pages = 1; ; pages++)
        {
            var policy = Evaluator.Policy;
            foreach (var tool in result.Tools)
            {
                if (_hideNeverAllowed ? policy.MayAllow(identity, tool.Name) : Evaluator.IsVisible(identity, tool.Name))
                {
                    visible.Add(tool);
                }
            }

            if (result.NextCursor is not { } cursor || pages == MaxPages)
            {
                break;
            }

            context.Params = new ListToolsRequestParams { Cursor = cursor, Meta = requested?.Meta };
            var page = await next(context, cancellationToken).ConfigureAwait(false);
            result.Tools = page.Tools;
            result.NextCursor = page.NextCursor;
        }

        context.Params = requested!;
        result.Tools = visible;
        return result;
    }

    /// <summary>Stops watching the policy file.</summary>
    public void Dispose()
    {
        lock (_reloadLock)
        {
            _disposed = true;
            _changeRegistration?.Dispose();
            _fileProvider?.Dispose();
            _debounceTimer?.Dispose();
        }

        Evaluator.DecisionMade -= OnDecision;
        StopOperations();
    }

    // ------------------------------------------------------------------ hidden and unknown tools

    /// <summary>Whether the server has the tool the call names (see <see cref="PolicyEngineMcpOptions.ToolExists"/>).</summary>
    private async ValueTask<bool> ExistsAsync(RequestContext<CallToolRequestParams> context, CancellationToken cancellationToken)
    {
        if (_toolExists is not null)
        {
            return await _toolExists(context, cancellationToken).ConfigureAwait(false);
        }

        // The SDK matched the name in its tool collection before the filters ran. A name it did not match exists
        // only if a call handler of the host's own may serve it; without one the SDK would answer "unknown tool".
        return context.MatchedPrimitive is McpServerTool
            || context.Server.ServerOptions.Handlers.CallToolHandler is not null;
    }

    private static bool IsHidden(Decision decision) =>
        decision.Kind == DecisionKind.Deny && string.Equals(decision.Rule, BuiltInRules.Hidden, StringComparison.Ordinal);

    /// <summary>
    /// Exactly what the SDK's server throws for a <c>tools/call</c> naming a tool it does not have (ModelContextProtocol
    /// 2.4.0, <c>McpServerImpl.ConfigureTools</c>); the SDK turns it into the JSON-RPC error
    /// <c>{"code": -32602, "message": "Unknown tool: 'NAME'"}</c>. <c>HiddenToolTests</c> compares the two answers.
    /// </summary>
    private static McpProtocolException UnknownTool(string tool) =>
        new($"Unknown tool: '{tool}'", McpErrorCode.InvalidParams);

    // ------------------------------------------------------------------ results

    private static CallToolResult Refusal(string tool, Decision decision)
    {
        var reason = string.IsNullOrEmpty(decision.Reason) ? "no reason given" : decision.Reason;
        var text = decision.Kind == DecisionKind.RateLimited
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"Call to '{tool}' rate-limited by policy: {reason}. Retry after {RetrySeconds(decision.RetryAfter)} seconds.{RuleSuffix(reason, decision.Rule)}")
            : $"Call to '{tool}' denied by policy: {reason}.{RuleSuffix(reason, decision.Rule)}";
        return Error(text);
    }

    /// <summary>" (rule R)", unless the reason already names the rule (the default deny's reason ends with "(default deny)").</summary>
    private static string RuleSuffix(string reason, string? rule) =>
        string.IsNullOrEmpty(rule) || reason.Contains(rule, StringComparison.Ordinal) ? string.Empty : $" (rule {rule})";

    private static long RetrySeconds(TimeSpan? retryAfter) =>
        retryAfter is { } r && r > TimeSpan.Zero ? (long)Math.Ceiling(r.TotalSeconds) : 1;

    private static CallToolResult Error(string text) => new()
    {
        IsError = true,
        Content = [new TextContentBlock { Text = text }],
    };

    // ------------------------------------------------------------------ arguments

    private static IReadOnlyDictionary<string, JsonElement>? AsReadOnly(IDictionary<string, JsonElement>? args) =>
        args switch
        {
            null => null,
            IReadOnlyDictionary<string, JsonElement> ready => ready,
            _ => new Dictionary<string, JsonElement>(args, StringComparer.Ordinal),
        };

    /// <summary>An upper bound of the arguments' JSON size, stopping as soon as it passes <paramref name="limit"/>.</summary>
    private static long MeasureBytes(IReadOnlyDictionary<string, JsonElement> args, int limit)
    {
        long total = 2;
        foreach (var (name, value) in args)
        {
            total += Encoding.UTF8.GetByteCount(name) + 4;
            total += value.ValueKind == JsonValueKind.Undefined ? 4 : Encoding.UTF8.GetByteCount(value.GetRawText());
            if (total > limit)
            {
                break;
            }
        }

        return total;
    }

    // ------------------------------------------------------------------ loading and reload

    private static Func<string, PolicyDocument> LoaderFor(string? format) =>
        (format ?? "json").ToLowerInvariant() switch
        {
            "json" => PolicyDocument.Load,
            "intercept" => throw new PolicyGuardException(
                "the 'intercept' format needs the Intercept importer: reference PolicyEngine.Intercept and set " +
                "DocumentLoader = path => InterceptPolicy.Load(path).Document"),
            _ => throw new PolicyGuardException($"unknown policy format '{format}': use 'json' or 'intercept'"),
        };

    private Policy LoadInitial(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            var policy = Policy.Compile(_load(path));
            _loadedText = text;
            return policy;
        }
        catch (PolicyValidationException ex)
        {
            // Reported once, by the exception that stops the host: every problem on a line of its own.
            var count = ex.Errors.Count;
            throw new PolicyGuardException(
                $"the policy '{path}' is invalid ({count} problem{(count == 1 ? string.Empty : "s")}):{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", ex.Errors.Select(e => $"{(e.Pointer.Length == 0 ? "(root)" : e.Pointer)}: {e.Message}")),
                ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PolicyGuardException($"cannot read the policy '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Watches the file through the hosting stack's file provider: a change token fires for an edit in place and for a
    /// file renamed over it (an atomic swap), and a debounce timer reloads once the writes have settled.
    /// </summary>
    private void StartWatching(string path)
    {
        _debounceTimer = new Timer(_ => ReloadQuietly(), null, Timeout.Infinite, Timeout.Infinite);

        // No exclusion filter: a policy named ".policy.json" is watched like any other.
        _fileProvider = new PhysicalFileProvider(Path.GetDirectoryName(path)!, ExclusionFilters.None);
        var fileName = Path.GetFileName(path);
        _changeRegistration = ChangeToken.OnChange(() => _fileProvider.Watch(fileName), OnFileChanged);
    }

    private void OnFileChanged()
    {
        lock (_reloadLock)
        {
            if (!_disposed)
            {
                _debounceTimer?.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void ReloadQuietly()
    {
        try
        {
            if (!_disposed)
            {
                Reload();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A timer callback must not throw; the current policy stays in force.
            LogReloadUnreadable(_logger, _policyPath ?? "(none)", ex.Message);
        }
    }

    // ------------------------------------------------------------------ logging

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
