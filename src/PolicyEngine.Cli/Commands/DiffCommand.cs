using System.Globalization;
using PolicyEngine.Testing;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine diff OLD NEW [--format json|intercept] [--calls N] [--seed S] [--rules]</c>: generates calls aimed
/// at both policies and prints, grouped by tool, the calls whose decision changes (old → new, with the deciding
/// rules); exit 0 when the decisions are identical, 1 when they differ.
/// </summary>
internal sealed class DiffCommand : ICommand
{
    public string Name => "diff";

    public string Usage => "diff OLD NEW [--format json|intercept] [--calls N] [--seed S] [--rules]";

    public string Summary => "compare two policies' decisions on generated calls; print the changes by tool (exit 1 when any)";

    public IReadOnlyDictionary<string, bool> Options { get; } = new Dictionary<string, bool>
    {
        ["--format"] = true,
        ["--calls"] = true,
        ["--seed"] = true,
        ["--rules"] = false,
    };

    public async Task<int> RunAsync(CommandArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        var oldPath = arguments.RequirePositional(0, "the OLD policy file");
        var newPath = arguments.RequirePositional(1, "the NEW policy file");
        if (arguments.Positional.Count > 2)
        {
            throw new UsageException("diff takes two files: OLD NEW");
        }

        var calls = Number(arguments.Option("--calls"), "--calls", 3000);
        var seed = Number(arguments.Option("--seed"), "--seed", 1);
        var format = arguments.Option("--format");
        var oldDocument = await Read(oldPath, format, stderr).ConfigureAwait(false);
        var newDocument = await Read(newPath, format, stderr).ConfigureAwait(false);
        if (oldDocument is null || newDocument is null)
        {
            return CommandLine.UsageError;
        }

        var diff = PolicyDiff.Compare(oldDocument, newDocument, (int)calls, (ulong)seed, compareRules: arguments.Flag("--rules"));
        string? tool = null;
        foreach (var change in diff.Changes)
        {
            if (change.Tool != tool)
            {
                tool = change.Tool;
                await stdout.WriteLineAsync(JsonLinesQuote(tool)).ConfigureAwait(false);
            }

            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {change}: {change.Count} call{(change.Count == 1 ? string.Empty : "s")}, e.g.")).ConfigureAwait(false);
            foreach (var example in change.Examples)
            {
                await stdout.WriteLineAsync("    " + example).ConfigureAwait(false);
            }
        }

        var changed = diff.Changes.Sum(c => c.Count);
        await stdout.WriteLineAsync(diff.Identical
            ? string.Create(CultureInfo.InvariantCulture, $"identical: {diff.CallsCompared} generated calls decided alike")
            : string.Create(CultureInfo.InvariantCulture, $"{changed} of {diff.CallsCompared} generated calls change decision ({diff.Changes.Count} kinds of change in {diff.Changes.Select(c => c.Tool).Distinct().Count()} tools)")).ConfigureAwait(false);
        return diff.Identical ? 0 : 1;
    }

    private static string JsonLinesQuote(string tool) => System.Text.Json.JsonSerializer.Serialize(tool, new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static long Number(string? text, string option, long fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value <= int.MaxValue
            ? value
            : throw new UsageException($"{option} must be a positive integer");
    }

    private static async Task<PolicyDocument?> Read(string path, string? format, TextWriter stderr)
    {
        var document = PolicySource.Read(path, format, out var errors);
        if (document is null)
        {
            await stderr.WriteLineAsync($"policyengine diff: {path} is not a valid policy").ConfigureAwait(false);
            await JsonLines.WriteErrorsAsync(stderr, errors).ConfigureAwait(false);
        }

        return document;
    }
}
