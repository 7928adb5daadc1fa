using System.CommandLine;
using PolicyEngine.Testing;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine test FILE|DIR...</c>: runs policy test files (a directory stands for every <c>*.tests.json</c>
/// under it); prints one line per failing case and a closing <c>N passed, N failed</c>; exit 0 when every case
/// passed, 1 otherwise, 2 when a named file or directory does not exist or cannot be read.
/// </summary>
internal sealed class TestCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var files = CliOptions.RejectOptionLikeValues(new Argument<string[]>("FILE|DIR")
        {
            Description = "Policy test files, or directories searched for *.tests.json",
            Arity = ArgumentArity.OneOrMore,
        });
        var command = new Command("test", "Run policy test files; one line per failing case, then \"N passed, N failed\" (exit 1 on any failure)")
        {
            files,
        };
        cli.SetAction(command, parseResult => RunAsync(cli, parseResult.GetValue(files)!));
        return command;
    }

    private static async Task<int> RunAsync(CliContext cli, string[] paths)
    {
        // Unreadable input is a usage error (exit 2), as for every other command, before any case runs.
        foreach (var path in paths)
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new UsageException($"cannot read \"{path}\": no such file or directory");
            }
        }

        var passed = 0;
        var failed = 0;
        foreach (var path in PolicyTestFile.Expand(paths))
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
                    await cli.Stdout.WriteLineAsync($"{path}: invalid test file: {error}").ConfigureAwait(false);
                }

                failed++;
                continue;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UsageException($"cannot read \"{path}\": {PolicySource.Describe(path, ex)}");
            }

            foreach (var result in file.Run())
            {
                if (result.Passed)
                {
                    passed++;
                    continue;
                }

                failed++;
                await cli.Stdout.WriteLineAsync($"{path}: {result}").ConfigureAwait(false);
            }
        }

        await cli.Stdout.WriteLineAsync($"{passed} passed, {failed} failed").ConfigureAwait(false);
        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
