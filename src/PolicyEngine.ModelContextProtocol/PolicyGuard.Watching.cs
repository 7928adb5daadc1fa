using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Primitives;

namespace PolicyEngine.ModelContextProtocol;

// The guard's policy file: the first load, watching it through change tokens, and reloading it (an invalid edit keeps
// the policy in force). Code moved unchanged from PolicyGuard.cs.
public sealed partial class PolicyGuard
{
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
}
