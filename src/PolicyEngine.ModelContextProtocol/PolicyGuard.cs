using System.Globalization;
using System.Security.Claims;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
    private readonly PrincipalIdentities _principals;
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
    /// <exception cref="PolicyGuardException">
    /// The options are invalid (every problem listed, one per line; the inner exception is the <see cref="ArgumentException"/>
    /// other components throw) or the policy cannot be loaded.
    /// </exception>
    public PolicyGuard(
        PolicyEngineMcpOptions options,
        ILogger<PolicyGuard>? logger = null,
        ICounterStore? counterStore = null,
        IApprovalStore? approvalStore = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var collected = PolicyEngineMcpOptionsValidator.Collect(options);
        if (collected.Problems is { Count: > 0 } problems)
        {
            // A PolicyGuardException (what a host catches when its guard cannot start) with one problem per line; its
            // inner exception is the ArgumentException every other component throws for wrong options.
            throw new PolicyGuardException(
                $"the PolicyEngine options are invalid ({problems.Count} problem{(problems.Count == 1 ? string.Empty : "s")}):{Environment.NewLine}  "
                + string.Join(Environment.NewLine + "  ", problems),
                collected.ToException());
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
        _principals = new PrincipalIdentities(_defaultIdentity.Id);
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
    /// The identity a request is evaluated as: the mapper's answer when one is configured; otherwise an
    /// authenticated user's claims (<see cref="PolicyIdentity.FromClaimsPrincipal"/>, made once per distinct principal
    /// and reused by its later calls), or the configured default identity.
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
            ? _principals.Resolve(user)
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
}
