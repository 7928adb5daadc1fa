using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace PolicyEngine.Cli;

/// <summary>What <c>policyengine lint</c> was asked to do.</summary>
/// <param name="PolicyPath">The policy file.</param>
/// <param name="Format"><c>json</c> (default) or <c>intercept</c>.</param>
/// <param name="ToolsPath">
/// The server's tools, as <c>init --save-tools</c> writes them (<c>{"tools": [{"name": ...}]}</c>), a bare array of
/// tool objects, or an array of names; <see langword="null"/> skips the checks that need them.
/// </param>
internal sealed record LintOptions(string PolicyPath, string? Format = null, string? ToolsPath = null);

/// <summary>
/// <c>policyengine lint FILE [--tools FILE] [--format json|intercept]</c>: one
/// <c>{"pointer", "severity", "code", "message"}</c> JSON line per finding; exit 1 when any finding is an error (or the
/// policy is invalid, with <c>validate</c>'s lines), 0 otherwise, 2 when a file cannot be read.
/// </summary>
internal sealed class LintCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var file = CliOptions.File("FILE", "The policy file to lint");
        var tools = new Option<string?>("--tools")
        {
            Description = "The server's tools (init --save-tools writes them): enables the checks against what the server lists",
            HelpName = "FILE",
        };
        var format = CliOptions.Format();
        var command = new Command("lint", "Find rules that can never fire or never matter; one {\"pointer\", \"severity\", \"code\", \"message\"} JSON line each (exit 1 on any error)")
        {
            file,
            tools,
            format,
        };
        cli.SetAction(command, parseResult => RunAsync(new LintOptions(parseResult.GetValue(file)!, parseResult.GetValue(format), parseResult.GetValue(tools)), cli.Stdout, cli.Stderr));
        return command;
    }

    /// <summary>Lints the policy; returns the exit code (2, with the reason on <paramref name="stderr"/>, for unreadable input).</summary>
    public static async Task<int> RunAsync(LintOptions options, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return await LintAsync(options, stdout, stderr).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync("policyengine lint: " + ex.Message).ConfigureAwait(false);
            return CommandLine.UsageError;
        }
    }

    private static async Task<int> LintAsync(LintOptions options, TextWriter stdout, TextWriter stderr)
    {
        IReadOnlyList<string>? tools = null;
        if (options.ToolsPath is { } toolsPath)
        {
            try
            {
                tools = ReadToolNames(File.ReadAllBytes(toolsPath));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UsageException($"cannot read \"{toolsPath}\": {PolicySource.Describe(toolsPath, ex)}");
            }
            catch (Exception ex) when (ex is JsonException or FormatException)
            {
                throw new UsageException($"\"{toolsPath}\" is not a tools list ({{\"tools\": [{{\"name\": ...}}]}}, or an array of tools or names): {ex.Message}");
            }
        }

        var document = PolicySource.Read(options.PolicyPath, options.Format, out var errors);
        if (document is null)
        {
            await JsonLines.WriteErrorsAsync(stdout, errors).ConfigureAwait(false);
            return 1;
        }

        var findings = PolicyLinter.Lint(document, tools);
        foreach (var finding in findings)
        {
            await stdout.WriteLineAsync(JsonLines.Object(w =>
            {
                w.WriteString("pointer", finding.Pointer);
                w.WriteString("severity", PolicyLinter.SeverityName(finding.Severity));
                w.WriteString("code", finding.Code);
                w.WriteString("message", finding.Message);
            })).ConfigureAwait(false);
        }

        var count = (LintSeverity s) => findings.Count(f => f.Severity == s);
        await stderr.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"{count(LintSeverity.Error)} error(s), {count(LintSeverity.Warning)} warning(s), {count(LintSeverity.Info)} info")).ConfigureAwait(false);
        return count(LintSeverity.Error) > 0 ? 1 : 0;
    }

    /// <summary>Tool names from <c>{"tools": [...]}</c>, <c>[{"name": ...}]</c> or <c>["name", ...]</c>.</summary>
    internal static IReadOnlyList<string> ReadToolNames(byte[] utf8)
    {
        using var document = JsonDocument.Parse(utf8);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tools", out var tools))
        {
            root = tools;
        }

        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("expected an array of tools");
        }

        var names = new List<string>();
        foreach (var item in root.EnumerateArray())
        {
            var name = item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Object when item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String => n.GetString(),
                _ => throw new FormatException("each tool must be a name or an object with a \"name\""),
            };
            names.Add(name!);
        }

        return names;
    }
}
