using Microsoft.Extensions.Options;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>The adapter's options validator reports every failure at once, each naming its property.</summary>
public sealed class PolicyEngineMcpOptionsValidatorTests
{
    [Fact]
    public void Validate_SeveralWrongOptions_FailsWithEveryOneNamed()
    {
        var options = new PolicyEngineMcpOptions
        {
            PolicyPath = "policy.json",
            StoreFailureMode = (StoreFailureMode)5,
            ApprovalHoldTimeout = TimeSpan.FromHours(2),
            AuditMaxFileBytes = 0,
        };
        options.IdentityRoles.Add(" ");

        var result = new PolicyEngineMcpOptionsValidator().Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains("PolicyEngineMcpOptions.IdentityRoles[0] is empty", failures);
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.StoreFailureMode '5' is unknown", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.ApprovalHoldTimeout must be positive and at most an hour", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("PolicyEngineMcpOptions.AuditMaxFileBytes must be positive", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_DefaultsWithAPolicyPath_Succeed()
    {
        var result = new PolicyEngineMcpOptionsValidator().Validate(Options.DefaultName, new PolicyEngineMcpOptions { PolicyPath = "policy.json" });

        Assert.True(result.Succeeded);
        Assert.Empty(PolicyEngineMcpOptionsValidator.Problems(new PolicyEngineMcpOptions { PolicyPath = "policy.json" }));
    }
}
