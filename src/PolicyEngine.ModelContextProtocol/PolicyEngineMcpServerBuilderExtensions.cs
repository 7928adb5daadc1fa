using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using PolicyEngine.ModelContextProtocol;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Puts a PolicyEngine policy in front of every tool of an MCP server.</summary>
public static class PolicyEngineMcpServerBuilderExtensions
{
    /// <summary>
    /// Guards the server's tools with the registered <see cref="PolicyGuard"/>: <c>tools/call</c> runs only when the
    /// policy allows it (denials become <c>isError</c> results the agent can act on), <c>tools/list</c> hides what
    /// the policy hides, a call to a hidden tool is answered exactly as a call to a tool the server does not have
    /// (the SDK's unknown-tool error), and calls that need approval ask the person through elicitation. Registers the guard
    /// first when <paramref name="configure"/> is given (see
    /// <see cref="PolicyEngineServiceCollectionExtensions.AddPolicyEngine(IServiceCollection, Action{PolicyEngineMcpOptions}?)"/>).
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Sets the options; omit it when <c>services.AddPolicyEngine(...)</c> was called. Without
    /// either, the host fails when it starts (a <see cref="PolicyGuardException"/> saying so).</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IMcpServerBuilder WithPolicyEngine(this IMcpServerBuilder builder, Action<PolicyEngineMcpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.AddPolicyEngine(configure);
        }

        // Without AddPolicyEngine the host must not start and then fail every request: checked when it starts.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PolicyGuardStartup>());

        return builder
            .WithMessageFilters(filters => filters.AddIncomingFilter(next => (context, cancellationToken) =>
            {
                // Reject a malformed tools/call before the SDK deserializes it, with an error the caller can read.
                ToolCallShape.ThrowIfMalformed(context.JsonRpcMessage);
                return next(context, cancellationToken);
            }))
            .WithRequestFilters(filters =>
        {
            filters.AddCallToolFilter(next => (context, cancellationToken) =>
                Guard(context.Services).CallToolAsync(context, next, cancellationToken));
            filters.AddListToolsFilter(next => (context, cancellationToken) =>
                Guard(context.Services).ListToolsAsync(context, next, cancellationToken));
        });
    }

    private static PolicyGuard Guard(IServiceProvider? services) =>
        services?.GetService<PolicyGuard>()
        ?? throw new PolicyGuardException("no PolicyGuard is registered: call services.AddPolicyEngine(...) or pass options to WithPolicyEngine(...)");
}
