using PolicyEngine.Testing;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine test FILE...</c>: runs policy test files (a directory stands for every <c>*.tests.json</c> under
/// it); prints one line per failing case and a closing <c>N passed, N failed</c>; exit 0 when every case passed, 1 otherwise.
/// </summary>
internal sealed class TestCommand : ICommand
{
    public string Name => "test";

    public string Usage => "test FILE|DIR...";

    public string Summary => "run policy test files; one line per failing case, then \"N passed, N failed\" (exit 1 on any failure)";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool>();

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        if (arguments.Positional.Count == 0)
        {
            throw new UsageException("missing the test FILE");
        }

        var passed = 0;
        var failed = 0;
        foreach (var path in PolicyTestFile.Expand(arguments.Positional))
        {
            PolicyTestFile file;
            try
            {
                file = PolicyTestFile.Load(path);
            }
            catch (PolicyValidationException ex)
            {
                // An invalid file is one failure: its problems are printed, its cases cannot run.
                foreach (var error in ex.Errors)
                {
                    await stdout.WriteLineAsync($"{path}: invalid test file: {error}").ConfigureAwait(false);
                }

                failed++;
                continue;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                await stdout.WriteLineAsync($"{path}: cannot read: {ex.Message}").ConfigureAwait(false);
                failed++;
                continue;
            }

            foreach (var result in file.Run())
            {
                if (result.Passed)
                {
                    passed++;
                    continue;
                }

                failed++;
                await stdout.WriteLineAsync($"{path}: {result}").ConfigureAwait(false);
            }
        }

        await stdout.WriteLineAsync($"{passed} passed, {failed} failed").ConfigureAwait(false);
        return failed == 0 ? 0 : 1;
    }
}
