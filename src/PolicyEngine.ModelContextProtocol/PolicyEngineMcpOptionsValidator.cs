using Microsoft.Extensions.Options;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>
/// Checks <see cref="PolicyEngineMcpOptions"/> and reports every problem at once. <c>AddPolicyEngine</c> registers it
/// with <c>ValidateOnStart</c>, so a host with wrong options stops when it starts (not at its first request); the
/// <see cref="PolicyGuard"/> constructor applies the same checks.
/// </summary>
public sealed class PolicyEngineMcpOptionsValidator : IValidateOptions<PolicyEngineMcpOptions>
{
    /// <summary>
    /// Every problem with <paramref name="options"/>, each starting with the option's name
    /// (<c>PolicyEngineMcpOptions.Identity must not be empty: …</c>) and saying what to set; empty when valid.
    /// </summary>
    /// <param name="options">The options.</param>
    /// <returns>The problems, in the order of the options' documentation.</returns>
    public static IReadOnlyList<string> Problems(PolicyEngineMcpOptions options) => Collect(options).Problems;

    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, PolicyEngineMcpOptions options)
    {
        var problems = Problems(options);
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>The problems, collected as every component collects them (the guard throws them together).</summary>
    internal static OptionsProblems Collect(PolicyEngineMcpOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new OptionsProblems(nameof(PolicyEngineMcpOptions));
        if (options.Policy is null && string.IsNullOrWhiteSpace(options.PolicyPath))
        {
            problems.Add(nameof(options.PolicyPath), "is required: set PolicyEngine:PolicyPath to the policy file (or Policy to a compiled policy in code)");
        }
        else if (options.Policy is not null && !string.IsNullOrWhiteSpace(options.PolicyPath))
        {
            problems.Add(nameof(options.PolicyPath), "and Policy are both set: set one (a file that is watched, or a compiled policy)");
        }

        var format = options.Format?.ToLowerInvariant();
        if (format is not ("json" or "intercept"))
        {
            problems.Add(nameof(options.Format), $"'{options.Format}' is unknown: use 'json' or 'intercept'");
        }
        else if (format == "intercept" && options.DocumentLoader is null && options.Policy is null)
        {
            problems.Add(nameof(options.Format), "'intercept' needs the Intercept importer: reference PolicyEngine.Intercept and set DocumentLoader = path => InterceptPolicy.Load(path).Document");
        }

        if (string.IsNullOrWhiteSpace(options.Identity))
        {
            problems.Add(nameof(options.Identity), "must not be empty: it is the grant every call without an authenticated user is counted against");
        }

        for (var i = 0; i < options.IdentityRoles.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.IdentityRoles[i]))
            {
                problems.Add($"{nameof(options.IdentityRoles)}[{i}]", "is empty");
            }
        }

        if (!Enum.IsDefined(options.StoreFailureMode))
        {
            problems.Add(nameof(options.StoreFailureMode), $"'{options.StoreFailureMode}' is unknown: use FailClosed or FailOpen");
        }

        if (options.StoreTimeout <= TimeSpan.Zero && options.StoreTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add(nameof(options.StoreTimeout), $"must be positive (it is {options.StoreTimeout})");
        }

        if (options.ElicitationTimeout <= TimeSpan.Zero)
        {
            problems.Add(nameof(options.ElicitationTimeout), $"must be positive (it is {options.ElicitationTimeout})");
        }

        if (!Enum.IsDefined(options.ApprovalWait))
        {
            problems.Add(nameof(options.ApprovalWait), $"'{options.ApprovalWait}' is unknown: use Auto, Return, Hold or Elicit");
        }

        if (options.ApprovalHoldTimeout <= TimeSpan.Zero || options.ApprovalHoldTimeout > TimeSpan.FromHours(1))
        {
            problems.Add(nameof(options.ApprovalHoldTimeout), $"must be positive and at most an hour (it is {options.ApprovalHoldTimeout})");
        }

        if (options.ApprovalProgressInterval <= TimeSpan.Zero)
        {
            problems.Add(nameof(options.ApprovalProgressInterval), $"must be positive (it is {options.ApprovalProgressInterval})");
        }

        if (options.ReloadDebounce < TimeSpan.Zero)
        {
            problems.Add(nameof(options.ReloadDebounce), $"must not be negative (it is {options.ReloadDebounce})");
        }

        if (options.MaxArgumentsBytes <= 0)
        {
            problems.Add(nameof(options.MaxArgumentsBytes), $"must be positive (it is {options.MaxArgumentsBytes})");
        }

        if (options.AuditMaxFileBytes <= 0)
        {
            problems.Add(nameof(options.AuditMaxFileBytes), $"must be positive (it is {options.AuditMaxFileBytes})");
        }

        return problems;
    }
}
