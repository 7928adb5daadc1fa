using Microsoft.Playwright;

namespace PolicyEngine.Browser.Tests;

/// <summary>
/// Debian's Chromium driven by Playwright (its own browser download is not available here). Without a chromium the
/// tests skip on a developer machine, and fail under CI (<c>PE_BROWSER_TESTS=1</c>, set by <c>.ci/run</c>, or CI=true).
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where screenshots and measurements go: <c>.ci-out/</c> at the repository root.</summary>
    public static string OutputDirectory
    {
        get
        {
            var directory = Path.Combine(Gateway.Metadata("RepositoryRoot"), ".ci-out");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    public async ValueTask InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("PE_CHROMIUM") is { Length: > 0 } configured ? configured : Find("chromium") ?? Find("chromium-browser");
        if (executable is null)
        {
            var required = Environment.GetEnvironmentVariable("PE_BROWSER_TESTS") == "1" || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
            Assert.False(required, "chromium is not installed, and CI runs the browser tests: apt-get install -y chromium");
            return;
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = executable, Headless = true });
    }

    /// <summary>Skips the calling test when no browser could be found (never under CI: initialisation failed there).</summary>
    public void SkipWithoutBrowser() => Assert.SkipWhen(_playwright is null, "chromium is not installed (apt-get install -y chromium); CI installs it");

    public async ValueTask DisposeAsync()
    {
        if (_playwright is not null)
        {
            await Browser.DisposeAsync();
            _playwright.Dispose();
        }
    }

    private static string? Find(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, name);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
