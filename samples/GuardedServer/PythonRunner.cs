using System.Diagnostics;
using System.Text;

namespace PolicyEngine.Samples.GuardedServer;

/// <summary>Runs Python code in a child <c>python3</c> process, killed when it outlives the time limit.</summary>
public sealed class PythonRunner(TimeSpan timeLimit)
{
    private const int MaxOutputChars = 16_000;

    public sealed record Run(bool Succeeded, int? ExitCode, bool TimedOut, string Output, string Errors)
    {
        public string Describe()
        {
            var text = new StringBuilder();
            if (TimedOut)
            {
                text.AppendLine("error: the code ran past its time limit and was stopped");
            }
            else if (ExitCode != 0)
            {
                text.Append("error: python3 exited with code ").Append(ExitCode).AppendLine();
            }

            text.Append(Output);
            if (Errors.Length > 0)
            {
                text.AppendLine().Append("stderr:\n").Append(Errors);
            }

            return text.ToString();
        }
    }

    public async Task<Run> RunAsync(string code, CancellationToken cancellationToken)
    {
        // -I: isolated mode (no user site-packages, no PYTHON* environment); the code arrives on stdin so it never
        // appears in a process listing.
        var start = new ProcessStartInfo("python3", ["-I", "-"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("python3 could not be started");
        var output = ReadCappedAsync(process.StandardOutput);
        var errors = ReadCappedAsync(process.StandardError);
        await process.StandardInput.WriteAsync(code);
        process.StandardInput.Close();

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeLimit);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !cancellationToken.IsCancellationRequested;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var exitCode = process.ExitCode;
        return new Run(!timedOut && exitCode == 0, timedOut ? null : exitCode, timedOut, await output, await errors);
    }

    private static async Task<string> ReadCappedAsync(StreamReader reader)
    {
        var text = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            if (text.Length < MaxOutputChars)
            {
                text.Append(buffer, 0, Math.Min(read, MaxOutputChars - text.Length));
            }
        }

        return text.ToString();
    }
}
