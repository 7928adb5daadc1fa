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
    /// <paramref name="configure"/>. When the host starts, the options are validated (every problem listed in one
    /// <see cref="OptionsValidationException"/>) and the policy is loaded, so a wrong setting or an invalid policy
    /// stops the host before it serves anything. A relative <see cref="PolicyEngineMcpOptions.PolicyPath"/> is
    /// resolved against the host's content root. The guard uses the registered <see cref="ICounterStore"/>,
    /// <see cref="IApprovalStore"/> and <see cref="TimeProvider"/> when there are any (register a Redis store to
    /// share limits between processes), and in-memory stores and the system clock otherwise; every registered
    /// <see cref="IApprovalNotifier"/> (see <see cref="AddApprovalWebhook"/>) hears every approval transition.
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

        // A relative path (policy, shadow policy, audit trail) means the host's content root, never the directory an
        // MCP client started us in.
        builder.PostConfigure<IServiceProvider>((options, provider) =>
        {
            var root = provider.GetService<IHostEnvironment>()?.ContentRootPath;
            root = string.IsNullOrEmpty(root) ? AppContext.BaseDirectory : root;
            options.PolicyPath = UnderContentRoot(options.PolicyPath, root);
            options.ShadowPolicyPath = UnderContentRoot(options.ShadowPolicyPath, root);
            options.AuditPath = UnderContentRoot(options.AuditPath, root);
        });

        // Every problem with the options stops the host when it starts, all listed in one exception.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PolicyEngineMcpOptions>, PolicyEngineMcpOptionsValidator>());
        builder.ValidateOnStart();

        services.TryAddSingleton(sp =>
        {
            var guard = new PolicyGuard(
                sp.GetRequiredService<IOptions<PolicyEngineMcpOptions>>().Value,
                sp.GetService<ILogger<PolicyGuard>>(),
                sp.GetService<ICounterStore>(),
                sp.GetService<IApprovalStore>(),
                sp.GetService<TimeProvider>());

            // Every registered notifier (such as the approval webhook) hears every approval transition.
            foreach (var notifier in sp.GetServices<IApprovalNotifier>())
            {
                guard.Evaluator.ApprovalChanged += (_, change) => notifier.Notify(change);
            }

            return guard;
        });
        services.TryAddSingleton(sp => sp.GetRequiredService<PolicyGuard>().Evaluator);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PolicyGuardStartup>());
        return services;
    }

    /// <summary>
    /// Registers the guard with options bound from <paramref name="configuration"/> (for example the
    /// <c>PolicyEngine</c> section: <c>PolicyPath</c>, <c>Format</c>, <c>Identity</c>, <c>IdentityRoles</c>,
    /// <c>StoreFailureMode</c>, <c>StoreTimeout</c>, <c>ElicitationTimeout</c>, <c>ReloadOnChange</c>, <c>ReloadDebounce</c>,
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

    /// <summary>
    /// Registers a <see cref="WebhookApprovalNotifier"/>: every approval transition is POSTed, HMAC-signed, to the
    /// configured URL, retried with backoff, without ever holding up a decision.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the endpoint and secret.</param>
    /// <returns><paramref name="services"/>.</returns>
    public static IServiceCollection AddApprovalWebhook(this IServiceCollection services, Action<WebhookApprovalNotifierOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new WebhookApprovalNotifierOptions();
        configure(options);
        services.AddSingleton<IApprovalNotifier>(sp => new WebhookApprovalNotifier(options, logger: sp.GetService<ILogger<WebhookApprovalNotifier>>()));
        return services;
    }

    private static string? UnderContentRoot(string? path, string root) =>
        string.IsNullOrWhiteSpace(path) || Path.IsPathFullyQualified(path) ? path : Path.GetFullPath(path, root);
}
