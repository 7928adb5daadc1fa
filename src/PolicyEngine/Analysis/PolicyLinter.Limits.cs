using System.Globalization;
using System.Text.Json;
using PolicyEngine.Documents;
using PolicyEngine.Json;
using PolicyEngine.Matching;

namespace PolicyEngine;

// The linter, limits: limits another limit makes unreachable, and cost_from arguments args_schema rules out.
public static partial class PolicyLinter
{
    /// <summary>A limit and where it is: its pointer, and the tool entry it belongs to (<see langword="null"/> for all_tools).</summary>
    private readonly record struct PlacedLimit(LimitRule Rule, string Pointer, ToolPolicy? Entry);

    private static void LintLimits(PolicyDocument document, List<LintFinding> findings)
    {
        var shared = new List<PlacedLimit>();
        if (document.AllTools?.Limits is { } allLimits)
        {
            for (var i = 0; i < allLimits.Count; i++)
            {
                shared.Add(new PlacedLimit(allLimits[i], $"/all_tools/limits/{i}", null));
            }
        }

        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var limit in shared)
        {
            uses[limit.Rule.Counter] = uses.GetValueOrDefault(limit.Rule.Counter) + 1;
        }

        var byEntry = new List<List<PlacedLimit>>();
        foreach (var entry in document.Tools)
        {
            var placed = new List<PlacedLimit>();
            var limits = entry.Limits ?? [];
            for (var i = 0; i < limits.Count; i++)
            {
                placed.Add(new PlacedLimit(limits[i], $"/tools/{PointerBuilder.Escape(entry.Name!)}/limits/{i}", entry));
                uses[limits[i].Counter] = uses.GetValueOrDefault(limits[i].Counter) + 1;
            }

            byEntry.Add(placed);
        }

        // A limit B is never reached when another limit A counts every call B counts (and maybe more) and admits fewer.
        // B's counter must be B's alone: a counter shared with other entries may fill up with calls A never sees.
        foreach (var group in byEntry.Append(shared))
        {
            foreach (var b in group)
            {
                if (uses[b.Rule.Counter] > 1)
                {
                    continue;
                }

                foreach (var a in b.Entry is null ? shared : group.Concat(shared))
                {
                    if (ReferenceEquals(a.Rule, b.Rule) || Dominates(a, b) is not { } cap)
                    {
                        continue;
                    }

                    findings.Add(new LintFinding(b.Pointer, LintSeverity.Warning, LintCodes.LimitNeverReached,
                        $"max {b.Rule.Max} per {b.Rule.WindowText} is never reached: {a.Pointer} ({a.Rule.Max} per {a.Rule.WindowText}, scope {a.Rule.Scope}) " +
                        $"already admits at most {cap} in any {b.Rule.WindowText}; lower this max or remove the limit"));
                    break;
                }
            }
        }
    }

    /// <summary>
    /// The most that <paramref name="a"/> lets <paramref name="b"/>'s counter reach in one of b's windows, when that is
    /// at most b's max (so b can never refuse a call); otherwise <see langword="null"/>.
    /// </summary>
    private static string? Dominates(PlacedLimit a, PlacedLimit b)
    {
        // Scope: a's counter must count every call b's counter counts.
        var scopeCovers = string.Equals(a.Rule.Scope, b.Rule.Scope, StringComparison.Ordinal)
            || a.Rule.ScopeKind == LimitScopeKind.Global
            || (a.Rule.ScopeKind == LimitScopeKind.Tool && b.Entry?.Name is { } name && !Glob.HasWildcard(name) && b.Rule.ScopeKind != LimitScopeKind.Global);
        if (!scopeCovers)
        {
            return null;
        }

        // Windows: how many of a's maxima fit in one of b's windows.
        var aLength = (long)a.Rule.Window.TotalMilliseconds;
        var bLength = (long)b.Rule.Window.TotalMilliseconds;
        if (aLength < bLength)
        {
            return null;
        }

        long factor;
        if (a.Rule.Algorithm == LimitAlgorithm.Sliding)
        {
            factor = 1;
        }
        else if (b.Rule.Algorithm == LimitAlgorithm.Fixed)
        {
            // Fixed windows are aligned to the Unix epoch, so b's window lies inside one of a's when the lengths divide.
            if (aLength % bLength != 0)
            {
                return null;
            }

            factor = 1;
        }
        else
        {
            // A sliding interval of b's length can straddle the boundary of two of a's fixed windows.
            factor = 2;
        }

        if (b.Rule.CostFrom is not null || a.Rule.CostFrom is not null)
        {
            if (!string.Equals(a.Rule.CostFrom, b.Rule.CostFrom, StringComparison.Ordinal))
            {
                return null;
            }

            var amount = SaturatingMultiply(factor, a.Rule.Max);
            return amount <= b.Rule.Max ? string.Create(CultureInfo.InvariantCulture, $"{amount} of {b.Rule.CostFrom}") : null;
        }

        var calls = SaturatingMultiply(factor, a.Rule.Max / a.Rule.Cost);
        return calls <= b.Rule.Max / b.Rule.Cost
            ? string.Create(CultureInfo.InvariantCulture, $"{calls} call{(calls == 1 ? string.Empty : "s")}")
            : null;
    }

    private static long SaturatingMultiply(long a, long b) => b > long.MaxValue / a ? long.MaxValue : a * b;

    private static void LintCostFrom(PolicyDocument document, List<LintFinding> findings)
    {
        foreach (var entry in document.Tools)
        {
            if (entry.ArgsSchema is not { } schema)
            {
                continue;
            }

            var pointer = "/tools/" + PointerBuilder.Escape(entry.Name!);
            var limits = entry.Limits ?? [];
            for (var i = 0; i < limits.Count; i++)
            {
                if (limits[i].CostFrom is { } path && CostProblem(schema, path) is { } problem)
                {
                    findings.Add(new LintFinding($"{pointer}/limits/{i}/cost_from", problem.Severity, LintCodes.CostFromNotNumber, problem.Message));
                }
            }

            var shared = document.AllTools?.Limits ?? [];
            for (var i = 0; i < shared.Count; i++)
            {
                if (shared[i].CostFrom is { } path && CostProblem(schema, path) is { Severity: LintSeverity.Error } problem)
                {
                    findings.Add(new LintFinding($"/all_tools/limits/{i}/cost_from", LintSeverity.Error, LintCodes.CostFromNotNumber,
                        $"for {Quote(entry.Name!)}: {problem.Message}"));
                }
            }
        }
    }

    /// <summary>What <c>args_schema</c> says about the argument a <c>cost_from</c> path names, when that rules it out as an amount.</summary>
    private static (LintSeverity Severity, string Message)? CostProblem(JsonElement schema, string costFrom)
    {
        var segments = costFrom.Split('.').AsSpan(1);
        var current = schema;
        foreach (var segment in segments)
        {
            if (current.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            if (current.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object
                && properties.TryGetProperty(segment, out var property))
            {
                current = property;
                continue;
            }

            if (current.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.False)
            {
                return (LintSeverity.Error, $"args_schema admits no argument {costFrom} (additionalProperties is false), so every call is denied for a missing amount");
            }

            return null;
        }

        if (current.ValueKind == JsonValueKind.False)
        {
            return (LintSeverity.Error, $"args_schema admits no value for {costFrom}, so every call that passes it is denied for a missing amount");
        }

        if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty("type", out var type))
        {
            return null;
        }

        var types = type.ValueKind switch
        {
            JsonValueKind.String => [type.GetString()!],
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList(),
            _ => new List<string>(),
        };
        if (types.Contains("integer"))
        {
            return null;
        }

        if (types.Contains("number"))
        {
            return (LintSeverity.Info, $"args_schema lets {costFrom} be a fraction, which is denied as an amount; declare it \"type\": \"integer\"");
        }

        return types.Count == 0 ? null
            : (LintSeverity.Error, $"args_schema says {costFrom} is {string.Join(" or ", types)}, never an integer amount, so every call that passes it is denied");
    }
}
