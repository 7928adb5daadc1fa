using Microsoft.Extensions.Hosting;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>Builds the guard when the host starts, so a missing or invalid policy stops the host at once.</summary>
internal sealed class PolicyGuardStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetService(typeof(PolicyGuard));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
