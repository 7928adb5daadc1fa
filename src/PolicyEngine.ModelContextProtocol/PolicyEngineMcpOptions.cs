using System.Security.Claims;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>
/// How <see cref="PolicyGuard"/> puts a policy in front of an MCP server's tools. Bind it from configuration
/// (section <c>PolicyEngine</c> by convention) or set it in code; it is read once, when the guard is built.
/// </summary>
public sealed class PolicyEngineMcpOptions
{
    /// <summary>The conventional configuration section name: <c>PolicyEngine</c>.</summary>
    public const string SectionName = "PolicyEngine";

    /// <summary>
    /// The policy file. Required unless <see cref="Policy"/> is set. The file is watched and reloaded when
    /// <see cref="ReloadOnChange"/> is set; an invalid edit keeps the policy in force and logs every problem.
    /// </summary>
    /// <remarks>
    /// Registered with <c>AddPolicyEngine</c>, a relative path is resolved against the host's content root
    /// (<c>IHostEnvironment.ContentRootPath</c>; the application's directory when there is no host environment), never
    /// against the working directory an MCP client happened to start the server in. <c>Host.CreateApplicationBuilder</c>
    /// sets the content root to the working directory unless told otherwise: set
    /// <c>HostApplicationBuilderSettings.ContentRootPath = AppContext.BaseDirectory</c> and copy the policy next to the
    /// binary, as docs/mcp.md shows. A <see cref="PolicyGuard"/> constructed directly resolves it against the working directory.
    /// </remarks>
    public string? PolicyPath { get; set; }

    /// <summary>
    /// The policy file's format: <c>json</c> (a v1 or v2 policy document, the default) or <c>intercept</c> (an
    /// Intercept YAML policy, which needs <see cref="DocumentLoader"/>, for example <c>path =&gt; InterceptPolicy.Load(path).Document</c>).
    /// </summary>
    public string Format { get; set; } = "json";

    /// <summary>
    /// Reads a policy file into a document; overrides <see cref="Format"/>. The hook for formats the adapter does
    /// not know (such as the Intercept importer). It should throw <see cref="PolicyValidationException"/> for an
    /// invalid file.
    /// </summary>
    public Func<string, PolicyDocument>? DocumentLoader { get; set; }

    /// <summary>A compiled policy to use instead of <see cref="PolicyPath"/> (no file, no reload).</summary>
    public Policy? Policy { get; set; }

    /// <summary>
    /// The identity id used when the request carries no authenticated user, as on a stdio server. Every such call
    /// is counted against this id. Default <c>anonymous</c>.
    /// </summary>
    public string Identity { get; set; } = "anonymous";

    /// <summary>Roles given to <see cref="Identity"/> (readable in policies as <c>identity.roles</c>).</summary>
    public IList<string> IdentityRoles { get; } = [];

    /// <summary>
    /// Maps the caller to a policy identity. Receives the authenticated user (<see langword="null"/> or
    /// unauthenticated over stdio) and the request's services. When unset, an authenticated user becomes
    /// <see cref="PolicyIdentity.FromClaimsPrincipal(ClaimsPrincipal, string)"/> and anyone else <see cref="Identity"/>.
    /// </summary>
    public Func<ClaimsPrincipal?, IServiceProvider?, PolicyIdentity>? IdentityMapper { get; set; }

    /// <summary>What a decision becomes when the counter store fails (default: deny).</summary>
    public StoreFailureMode StoreFailureMode { get; set; } = StoreFailureMode.FailClosed;

    /// <summary>How long a counter store may take before the failure mode applies (default 2 s).</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a person has to answer an approval request before the call is denied (default 5 minutes).
    /// </summary>
    public TimeSpan ElicitationTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How a call that needs approval waits when its rule sets no <c>wait</c> (default <see cref="ApprovalWaitMode.Auto"/>:
    /// elicitation for a rule without <c>approvers</c>, otherwise <see cref="ApprovalWaitMode.Return"/>). A rule with
    /// <c>approvers</c> never uses elicitation, whatever this says: the caller never approves its own call. See
    /// docs/approvals.md.
    /// </summary>
    public ApprovalWaitMode ApprovalWait { get; set; } = ApprovalWaitMode.Auto;

    /// <summary>
    /// How long a call in <see cref="ApprovalWaitMode.Hold"/> mode is held open waiting for approvers (default 2 minutes);
    /// when it runs out the agent is told the request id, as in <see cref="ApprovalWaitMode.Return"/> mode.
    /// </summary>
    public TimeSpan ApprovalHoldTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a held call sends an MCP progress notification while it waits (default 5 s; only when the client sent a progress token).</summary>
    public TimeSpan ApprovalProgressInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether to watch <see cref="PolicyPath"/> and reload it when it changes (default true).</summary>
    public bool ReloadOnChange { get; set; } = true;

    /// <summary>How long the file must stay quiet before a reload (editors write in several steps; default 300 ms).</summary>
    /// <remarks>
    /// The file is watched through <c>PhysicalFileProvider</c> change tokens, like configuration files: an edit in
    /// place and a new file renamed over the old one (an atomic swap) both reload it. Where file events do not arrive
    /// (some container mounts and network file systems) set the environment variable
    /// <c>DOTNET_USE_POLLING_FILE_WATCHER=true</c>, as for configuration reloads.
    /// </remarks>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Whether <c>tools/list</c> leaves out, for each caller, the tools the policy can never allow them (default
    /// true): a tool no entry lists under <c>"default": "deny"</c>, an entry with <c>"action": "deny"</c>, and a tool
    /// whose identity-only checks (a role gate) deny this caller whatever the arguments (see
    /// <see cref="PolicyEngine.Policy.MayAllow"/>). Hidden tools are always left out.
    /// </summary>
    /// <remarks>
    /// On by default because an agent spends turns on every tool it is shown: listing tools that can only ever be
    /// refused invites calls that fail, and tells the agent more about the server than it can use. Unlike
    /// <c>hide</c>, a tool left out this way still exists for the agent: a call to it gets its explanatory denial
    /// (<c>(default deny)</c>, the entry's <c>on_deny</c>), not the unknown-tool error. Set it to false to list them
    /// anyway, for example so that an agent reads each denied tool's description.
    /// </remarks>
    public bool HideNeverAllowedTools { get; set; } = true;

    /// <summary>
    /// The largest accepted <c>tools/call</c> arguments, in bytes of JSON (default 1 MiB). Larger calls are denied
    /// before the policy runs and never reach the tool.
    /// </summary>
    public int MaxArgumentsBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Whether the tool a <c>tools/call</c> names exists on this server. A call to a tool that does not exist, and a
    /// call to a tool the policy hides, are both answered exactly as the SDK answers a call to an unknown tool (a
    /// JSON-RPC invalid-params error, <c>Unknown tool: 'NAME'</c>), whatever the policy's default: the agent cannot
    /// tell a hidden tool from a missing one.
    /// </summary>
    /// <remarks>
    /// Leave it unset for tools registered with the SDK (<c>WithTools</c> and the like): the guard knows them.
    /// Set it when a <c>CallToolHandler</c> of the host's own serves tools (a proxy, dynamic tools); without it
    /// such calls are assumed to name an existing tool, and a missing tool is answered by the policy (under
    /// <c>default: deny</c>, a denial that differs from the hidden tools' answer).
    /// </remarks>
    public Func<RequestContext<CallToolRequestParams>, CancellationToken, ValueTask<bool>>? ToolExists { get; set; }

    /// <summary>
    /// A file for the guard's audit trail: every decision, approval step, policy load and shadow disagreement as
    /// hash-chained JSON lines (never argument values), rotated at <see cref="AuditMaxFileBytes"/> and continued across
    /// restarts; check it with <c>policyengine audit verify</c>. Unset: no trail.
    /// </summary>
    public string? AuditPath { get; set; }

    /// <summary>The size at which the <see cref="AuditPath"/> file is rotated (default 64 MiB; 0 never rotates).</summary>
    public long AuditMaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// A trail the host opened itself (for example <c>AuditTrail.ToStream</c>); takes precedence over
    /// <see cref="AuditPath"/>. The guard writes to it but never disposes it.
    /// </summary>
    public Audit.AuditTrail? AuditTrail { get; set; }

    /// <summary>
    /// A candidate policy (same format as <see cref="PolicyPath"/>) evaluated beside the enforced one on every call in
    /// shadow mode: it never changes an outcome nor consumes the enforced policy's quota (its counters are namespaced),
    /// and each call it would have decided differently is logged, counted (<c>policyengine.shadow.disagreements</c>) and
    /// recorded in the audit trail. Loaded when the guard starts. Unset: no shadow.
    /// </summary>
    public string? ShadowPolicyPath { get; set; }
}
