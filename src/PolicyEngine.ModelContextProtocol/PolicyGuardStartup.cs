using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>
/// Checks, when the host starts and before any hosted service (the MCP transport among them) starts, that the guard
/// <c>WithPolicyEngine()</c> needs is registered, then builds it, so that a missing registration or an invalid
/// policy stops the host at once instead of failing every request.
/// </summary>
internal sealed class PolicyGuardStartup(IServiceProvider services) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (services.GetService<IServiceProviderIsService>() is { } registry && !registry.IsService(typeof(PolicyGuard)))
        {
            throw new PolicyGuardException(
                "WithPolicyEngine() found no PolicyGuard: call services.AddPolicyEngine(...) (or builder.Services.AddPolicyEngine(" +
                "builder.Configuration.GetSection(\"PolicyEngine\"))), or pass the options to WithPolicyEngine(o => ...)");
        }

        _ = services.GetRequiredService<PolicyGuard>();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
