using System.CommandLine;
using System.Globalization;
using PolicyEngine.Testing;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine diff OLD NEW [--format json|intercept] [--calls N] [--seed S] [--rules]</c>: generates calls aimed
/// at both policies and prints, grouped by tool, the calls whose decision changes (old → new, with the deciding
/// rules); exit 0 when the decisions are identical, 1 when they differ or a policy is invalid.
/// </summary>
internal sealed class DiffCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var oldFile = CliOptions.File("OLD", "The policy in force");
        var newFile = CliOptions.File("NEW", "The proposed policy");
        var format = CliOptions.Format();
        var calls = PositiveNumber("--calls", "How many calls to generate", 3000);
        var seed = PositiveNumber("--seed", "The generator's seed (fixed by default, so the report is stable)", 1);
        var rules = new Option<bool>("--rules") { Description = "Also report calls decided by a different rule with the same kind" };
        var command = new Command("diff", "Compare two policies' decisions on generated calls; print the changes by tool (exit 1 when any)")
        {
            oldFile,
            newFile,
            format,
            calls,
            seed,
            rules,
        };
        cli.SetAction(command, async parseResult =>
        {
            var oldDocument = await ReadAsync(cli, parseResult.GetValue(oldFile)!, parseResult.GetValue(format)).ConfigureAwait(false);
            var newDocument = await ReadAsync(cli, parseResult.GetValue(newFile)!, parseResult.GetValue(format)).ConfigureAwait(false);
            if (oldDocument is null || newDocument is null)
            {
                return ExitCodes.Failure;
            }

            var diff = PolicyDiff.Compare(oldDocument, newDocument, parseResult.GetValue(calls), (ulong)parseResult.GetValue(seed), compareRules: parseResult.GetValue(rules));
            await WriteAsync(cli.Stdout, diff).ConfigureAwait(false);
            return diff.Identical ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    private static async Task WriteAsync(TextWriter stdout, PolicyDiff diff)
    {
        string? tool = null;
        foreach (var change in diff.Changes)
        {
            if (change.Tool != tool)
            {
                tool = change.Tool;
                await stdout.WriteLineAsync(JsonLinesQuote(tool)).ConfigureAwait(false);
            }

            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {change}: {Count(change.Count, "call")}, e.g.")).ConfigureAwait(false);
            foreach (var example in change.Examples)
            {
                await stdout.WriteLineAsync("    " + example).ConfigureAwait(false);
            }
        }

        var changed = diff.Changes.Sum(c => c.Count);
        var tools = diff.Changes.Select(c => c.Tool).Distinct().Count();
        await stdout.WriteLineAsync(diff.Identical
            ? string.Create(CultureInfo.InvariantCulture, $"identical: {diff.CallsCompared} generated calls decided alike")
            : string.Create(CultureInfo.InvariantCulture, $"{changed} of {diff.CallsCompared} generated calls change decision ({Count(diff.Changes.Count, "kind")} of change in {Count(tools, "tool")})")).ConfigureAwait(false);
    }

    /// <summary>"1 tool", "2 tools".</summary>
    internal static string Count(int n, string noun) =>
        string.Create(CultureInfo.InvariantCulture, $"{n} {noun}{(n == 1 ? string.Empty : "s")}");

    private static Option<int> PositiveNumber(string name, string description, int fallback)
    {
        var option = new Option<int>(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => fallback };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() <= 0)
            {
                result.AddError($"{name} must be a positive integer");
            }
        });
        return option;
    }

    private static string JsonLinesQuote(string tool) => System.Text.Json.JsonSerializer.Serialize(tool, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static async Task<PolicyDocument?> ReadAsync(CliContext cli, string path, string? format)
    {
        var document = PolicySource.Read(path, format, out var errors);
        if (document is null)
        {
            await cli.Stderr.WriteLineAsync($"policyengine diff: {path} is not a valid policy").ConfigureAwait(false);
            await JsonLines.WriteErrorsAsync(cli.Stderr, errors).ConfigureAwait(false);
        }

        return document;
    }
}
