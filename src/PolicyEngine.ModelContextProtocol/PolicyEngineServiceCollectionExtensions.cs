using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PolicyEngine;
using PolicyEngine.ModelContextProtocol;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the PolicyEngine MCP guard with dependency injection.</summary>
public static class PolicyEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="PolicyGuard"/> (and its <see cref="PolicyEvaluator"/>) configured by
    /// <paramref name="configure"/>. The guard uses the registered <see cref="ICounterStore"/>,
    /// <see cref="IApprovalStore"/> and <see cref="TimeProvider"/> when there are any (register a Redis store to
    /// share limits between processes), and in-memory stores and the system clock otherwise.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddPolicyEngine(this IServiceCollection services, Action<PolicyEngineMcpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<PolicyEngineMcpOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton(sp => new PolicyGuard(
            sp.GetRequiredService<IOptions<PolicyEngineMcpOptions>>().Value,
            sp.GetService<ILogger<PolicyGuard>>(),
            sp.GetService<ICounterStore>(),
            sp.GetService<IApprovalStore>(),
            sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => sp.GetRequiredService<PolicyGuard>().Evaluator);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PolicyGuardStartup>());
        return services;
    }

    /// <summary>
    /// Registers the guard with options bound from <paramref name="configuration"/> (for example the
    /// <c>PolicyEngine</c> section: <c>PolicyPath</c>, <c>Format</c>, <c>Identity</c>, <c>IdentityRoles</c>,
    /// <c>FailMode</c>, <c>StoreTimeout</c>, <c>ElicitationTimeout</c>, <c>ReloadOnChange</c>, <c>ReloadDebounce</c>,
    /// <c>MaxArgumentsBytes</c>), then adjusted by <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section to bind.</param>
    /// <param name="configure">Sets what configuration cannot (such as the identity mapper).</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddPolicyEngine(this IServiceCollection services, IConfiguration configuration, Action<PolicyEngineMcpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PolicyEngineMcpOptions>().Bind(configuration);
        return services.AddPolicyEngine(configure);
    }
}
