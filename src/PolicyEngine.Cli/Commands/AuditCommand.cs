using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using PolicyEngine.Audit;
using PolicyEngine.Decisions;

namespace PolicyEngine.Cli;

/// <summary>What <c>policyengine audit</c> was asked to do.</summary>
/// <param name="Action"><c>verify</c> or <c>summary</c>.</param>
/// <param name="Files">The audit file and its rotated files, in any order.</param>
/// <param name="Top">How many refusing rules <c>summary</c> lists.</param>
internal sealed record AuditOptions(string Action, IReadOnlyList<string> Files, int Top = 10);

/// <summary>
/// <c>policyengine audit verify FILE...</c>: exit 0 when the hash chain is intact, 1 naming the first broken record
/// (edited, removed, reordered, cut short). <c>policyengine audit summary FILE... [--top N]</c>: counts per tool and
/// kind, the top refusing rules, shadow disagreements, approvals and dropped records.
/// </summary>
internal sealed class AuditCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var command = new Command("audit", "Verify an audit trail's hash chain (exit 1 naming the first broken record), or summarise it by tool, kind and rule");
        command.Subcommands.Add(Action(cli, "verify", "Check the hash chain across the files (rotated files in order); exit 1 naming the first edited, removed, reordered or cut-short record"));
        command.Subcommands.Add(Action(cli, "summary", "Count decisions by tool and kind, and list the most frequent denying rules"));
        return command;
    }

    private static Command Action(CliContext cli, string name, string description)
    {
        var files = CliOptions.RejectOptionLikeValues(new Argument<string[]>("FILE")
        {
            Description = "The audit file and its rotated files, in any order",
            Arity = ArgumentArity.OneOrMore,
        });
        var top = new Option<int>("--top") { Description = "How many denying rules to list", HelpName = "N", DefaultValueFactory = _ => 10 };
        top.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1)
            {
                result.AddError("--top must be a positive integer");
            }
        });
        var command = new Command(name, description) { files, top };
        cli.SetAction(command, parseResult => RunAsync(new AuditOptions(name, parseResult.GetValue(files)!, parseResult.GetValue(top)), cli.Stdout, cli.Stderr));
        return command;
    }

    /// <summary>Runs the action; returns the exit code.</summary>
    public static async Task<int> RunAsync(AuditOptions options, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            foreach (var file in options.Files)
            {
                if (!File.Exists(file))
                {
                    throw new UsageException($"cannot read \"{file}\": no such file");
                }
            }

            var verification = AuditVerifier.Verify(options.Files);
            return options.Action == "verify"
                ? await VerifyAsync(verification, stdout).ConfigureAwait(false)
                : await SummarizeAsync(verification, options.Top, stdout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UsageException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            await stderr.WriteLineAsync("policyengine audit: " + ex.Message).ConfigureAwait(false);
            return CommandLine.UsageError;
        }
    }

    private static async Task<int> VerifyAsync(AuditVerification verification, TextWriter stdout)
    {
        if (verification.FirstBreak is { } broken)
        {
            await stdout.WriteLineAsync("broken: " + broken.Message).ConfigureAwait(false);
            await stdout.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"{verification.Records} record(s) verified before it; the last good record is seq {verification.LastSeq}, hash {verification.LastHash}")).ConfigureAwait(false);
            return 1;
        }

        await stdout.WriteLineAsync(string.Create(
            CultureInfo.InvariantCulture,
            $"intact: {verification.Records} record(s) in {verification.Files.Count} file(s), seq 1 to {verification.LastSeq}")).ConfigureAwait(false);
        await stdout.WriteLineAsync("last hash: " + verification.LastHash + " (keep it elsewhere: a chain cannot show that records were cut off its end)").ConfigureAwait(false);
        return 0;
    }

    private static async Task<int> SummarizeAsync(AuditVerification verification, int top, TextWriter stdout)
    {
        var types = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var byTool = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        var refusals = new Dictionary<(string Rule, string Kind), long>();
        var shadow = new SortedDictionary<(string Tool, string Kinds), long>();
        var approvals = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var kinds = Array.ConvertAll(Enum.GetValues<DecisionKind>(), DecisionKindNames.Of);
        long dropped = 0, unreadable = 0, records = 0;
        string? first = null, last = null;
        foreach (var file in verification.Files)
        {
            foreach (var (_, line, _) in AuditVerifier.Lines(file))
            {
                JsonElement record;
                try
                {
                    using var document = JsonDocument.Parse(line);
                    record = document.RootElement.Clone();
                }
                catch (JsonException)
                {
                    unreadable++;
                    continue;
                }

                records++;
                var type = Text(record, "type") ?? "(none)";
                types[type] = types.GetValueOrDefault(type) + 1;
                if (Text(record, "time") is { } time)
                {
                    first ??= time;
                    last = time;
                }

                switch (type)
                {
                    case AuditRecordTypes.Decision:
                        var tool = Text(record, "tool") ?? "(none)";
                        var kind = Text(record, "kind") ?? "(none)";
                        var index = Array.IndexOf(kinds, kind);
                        if (!byTool.TryGetValue(tool, out var counts))
                        {
                            byTool[tool] = counts = new long[kinds.Length];
                        }

                        if (index >= 0)
                        {
                            counts[index]++;
                        }

                        if (kind is "deny" or "rate_limited")
                        {
                            var key = (Text(record, "rule") ?? "(none)", kind);
                            refusals[key] = refusals.GetValueOrDefault(key) + 1;
                        }

                        break;
                    case AuditRecordTypes.Shadow:
                        var pair = (Text(record, "tool") ?? "(none)", Text(record, "kinds") ?? "(none)");
                        shadow[pair] = shadow.GetValueOrDefault(pair) + 1;
                        break;
                    case AuditRecordTypes.Approval:
                        var outcome = Text(record, "outcome") ?? "(none)";
                        approvals[outcome] = approvals.GetValueOrDefault(outcome) + 1;
                        break;
                    case AuditRecordTypes.Gap:
                        dropped += record.TryGetProperty("dropped", out var d) && d.TryGetInt64(out var n) ? n : 0;
                        break;
                }
            }
        }

        var w = stdout;
        await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"records: {records} ({string.Join(", ", types.Select(t => $"{t.Key} {t.Value}"))}){(first is null ? string.Empty : $" from {first} to {last}")}")).ConfigureAwait(false);
        await w.WriteLineAsync(verification.FirstBreak is { } broken
            ? "chain: BROKEN: " + broken.Message
            : string.Create(CultureInfo.InvariantCulture, $"chain: intact ({verification.Records} records)")).ConfigureAwait(false);
        if (unreadable > 0)
        {
            await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"unreadable lines: {unreadable}")).ConfigureAwait(false);
        }

        await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"dropped records: {dropped}")).ConfigureAwait(false);
        await w.WriteLineAsync().ConfigureAwait(false);
        await w.WriteLineAsync("decisions by tool and kind:").ConfigureAwait(false);
        var width = Math.Max(4, byTool.Keys.Select(k => k.Length).DefaultIfEmpty(4).Max());
        await w.WriteLineAsync("  " + "tool".PadRight(width) + string.Concat(kinds.Select(k => "  " + k.PadLeft(Math.Max(k.Length, 6))))).ConfigureAwait(false);
        foreach (var (tool, counts) in byTool)
        {
            await w.WriteLineAsync("  " + tool.PadRight(width) + string.Concat(kinds.Select((k, i) =>
                "  " + counts[i].ToString(CultureInfo.InvariantCulture).PadLeft(Math.Max(k.Length, 6))))).ConfigureAwait(false);
        }

        await w.WriteLineAsync().ConfigureAwait(false);
        await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"top refusing rules (deny, rate_limited), at most {top}:")).ConfigureAwait(false);
        foreach (var ((rule, kind), count) in refusals.OrderByDescending(r => r.Value).ThenBy(r => r.Key.Rule, StringComparer.Ordinal).Take(top))
        {
            await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {count,6}  {kind,-12}  {rule}")).ConfigureAwait(false);
        }

        if (shadow.Count > 0)
        {
            await w.WriteLineAsync().ConfigureAwait(false);
            await w.WriteLineAsync("shadow disagreements (enforced->candidate):").ConfigureAwait(false);
            foreach (var ((tool, pair), count) in shadow)
            {
                await w.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {count,6}  {tool}  {pair}")).ConfigureAwait(false);
            }
        }

        if (approvals.Count > 0)
        {
            await w.WriteLineAsync().ConfigureAwait(false);
            await w.WriteLineAsync("approvals: " + string.Join(", ", approvals.Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.Key} {a.Value}")))).ConfigureAwait(false);
        }

        return 0;
    }

    private static string? Text(JsonElement record, string name)
    {
        if (!record.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate, kept as an escape by the writer: show it as written.
            return value.GetRawText().Trim('"');
        }
    }
}
