using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing;

/// <summary>
/// FsCheck generators aimed at a policy: its tool names (and names no entry matches), argument values at and around
/// every predicate's boundary, identities with and without the attributes it reads, timed call sequences for its
/// limits, and whole policy documents. Each generator has an <see cref="Arbitrary{T}"/> twin that shrinks towards
/// a minimal failing call, sequence or document.
/// </summary>
/// <remarks>
/// For a predicate <c>args.amount gt 10000</c>, calls carry 9999, 10000, 10001, 9999.5, 10000.5, an absent
/// <c>amount</c>, <c>null</c>, <c>"10000"</c>, huge numbers and values of other types; for <c>in</c> lists every
/// element and near misses; for <c>regex</c>, <c>glob</c>, <c>starts_with</c> and <c>ends_with</c> strings that match
/// and strings that just miss; for <c>path_under</c> paths that try to escape with <c>..</c>, <c>.</c>, <c>//</c>,
/// <c>\</c> and a sibling prefix.
/// </remarks>
public static class PolicyGen
{
    /// <summary>The instant timed sequences start near (a UTC day boundary, so every window is aligned to it).</summary>
    internal static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Calls aimed at <paramref name="policy"/>: any of its tools, or a name it does not list.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The generator.</returns>
    public static Gen<PolicyCall> Calls(PolicyDocument policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Calls([policy]);
    }

    /// <summary>Calls aimed at several policies at once (for comparing an old and a new version).</summary>
    /// <param name="policies">The policies; at least one.</param>
    /// <returns>The generator.</returns>
    public static Gen<PolicyCall> Calls(IReadOnlyList<PolicyDocument> policies)
    {
        var targets = Targets(policies);
        return CallGen(targets, targets.ToolNames);
    }

    /// <summary>Calls of tools matching <paramref name="toolPattern"/> (a glob: <c>*</c>, <c>?</c>), aimed at <paramref name="policy"/>.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="toolPattern">A tool name or glob, such as <c>delete_*</c>.</param>
    /// <returns>The generator: the policy's own matching names, and the pattern filled with pieces of the policy's names and globs.</returns>
    public static Gen<PolicyCall> CallsTo(PolicyDocument policy, string toolPattern)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrEmpty(toolPattern);
        return PatternCallGen(Targets([policy]), toolPattern);
    }

    /// <summary>Tool names worth calling under <paramref name="policy"/>.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>Its literal tool names, names matching each glob and <c>hide</c> entry, and a name nothing matches.</returns>
    public static Gen<string> ToolNames(PolicyDocument policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return Gen.Elements(Targets([policy]).ToolNames);
    }

    /// <summary>Callers for <paramref name="tool"/>: ids and attributes the policy reads (<c>identity.…</c>), each present or absent.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="tool">The tool whose rules decide which attributes matter; <see langword="null"/> for every tool's.</param>
    /// <returns>The generator.</returns>
    public static Gen<PolicyIdentity> Identities(PolicyDocument policy, string? tool = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var targets = Targets([policy]);
        return tool is not null
            ? IdentityGen(targets.ForTool(tool))
            : Gen.Elements(targets.ToolNames).SelectMany(name => IdentityGen(targets.ForTool(name)));
    }

    /// <summary>
    /// Timed call sequences for the policy's limits: a few repeated calls (same caller and arguments, so that they hit
    /// the same counters), bursts within one window, and gaps that cross window boundaries. Each call has <see cref="PolicyCall.At"/> set.
    /// </summary>
    /// <param name="policy">The policy.</param>
    /// <param name="toolPattern">Only tools matching this glob; <see langword="null"/> for any tool.</param>
    /// <returns>The generator.</returns>
    public static Gen<PolicyCall[]> CallSequences(PolicyDocument policy, string? toolPattern = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var targets = Targets([policy]);
        return SequenceGen(targets, toolPattern is null ? targets.ToolNames : targets.NamesMatching(toolPattern));
    }

    /// <summary>Valid policy documents, version 1 or 2, using every key and operator.</summary>
    /// <returns>The generator.</returns>
    public static Gen<PolicyDocument> Documents() => Gen.OneOf(V1Documents(), V2Documents());

    /// <summary>Valid version 1 (PolicyLayer-compatible) documents.</summary>
    /// <returns>The generator.</returns>
    public static Gen<PolicyDocument> V1Documents() => DocumentGen.V1().Select(PolicyDocument.Parse);

    /// <summary>Valid version 2 documents: globs, composites, identity paths, approvals, every limit form.</summary>
    /// <returns>The generator.</returns>
    public static Gen<PolicyDocument> V2Documents() => DocumentGen.V2().Select(PolicyDocument.Parse);

    /// <summary><see cref="Calls(PolicyDocument)"/> with shrinking: failing calls shrink by dropping arguments and identity attributes.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The arbitrary.</returns>
    public static Arbitrary<PolicyCall> CallArbitrary(PolicyDocument policy) => Arb.From(Calls(policy), Shrink);

    /// <summary><see cref="CallSequences"/> with shrinking: failing sequences shrink by dropping calls, then shrinking each call.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="toolPattern">Only tools matching this glob; <see langword="null"/> for any tool.</param>
    /// <returns>The arbitrary.</returns>
    public static Arbitrary<PolicyCall[]> CallSequenceArbitrary(PolicyDocument policy, string? toolPattern = null) =>
        Arb.From(CallSequences(policy, toolPattern), Shrink);

    /// <summary><see cref="Documents"/> with shrinking: failing documents shrink by removing keys and list items while staying valid.</summary>
    /// <returns>The arbitrary.</returns>
    public static Arbitrary<PolicyDocument> DocumentArbitrary() => Arb.From(Documents(), Shrink);

    /// <summary>Smaller variants of a call: one identity attribute or one argument (at any depth) removed.</summary>
    /// <param name="call">The call.</param>
    /// <returns>The candidates, simplest first.</returns>
    public static IEnumerable<PolicyCall> Shrink(PolicyCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        foreach (var args in DropOneMember(call.Args))
        {
            yield return new PolicyCall(call.Identity, call.Tool, args, call.At);
        }

        var attributes = call.Identity.Attributes.EnumerateObject().Where(p => !p.NameEquals("id")).ToList();
        for (var i = 0; i < attributes.Count; i++)
        {
            var kept = attributes.Where((_, j) => j != i).ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
            yield return new PolicyCall(new PolicyIdentity(call.Identity.Id, kept), call.Tool, call.Args, call.At);
        }
    }

    /// <summary>Smaller variants of a sequence: halves, then single calls removed, then each call shrunk in place.</summary>
    /// <param name="calls">The sequence.</param>
    /// <returns>The candidates.</returns>
    public static IEnumerable<PolicyCall[]> Shrink(PolicyCall[] calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        for (var size = calls.Length / 2; size >= 1; size /= 2)
        {
            for (var start = 0; start + size <= calls.Length; start += size)
            {
                yield return [.. calls[..start], .. calls[(start + size)..]];
            }
        }

        for (var i = 0; i < calls.Length; i++)
        {
            foreach (var smaller in Shrink(calls[i]))
            {
                var copy = (PolicyCall[])calls.Clone();
                copy[i] = smaller;
                yield return copy;
            }
        }
    }

    /// <summary>Smaller valid variants of a document: one key or list item removed at any depth.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The candidates that still parse.</returns>
    public static IEnumerable<PolicyDocument> Shrink(PolicyDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var original = JsonNode.Parse(document.ToJson())!;
        var text = original.ToJsonString();
        var count = CountRemovable(original);
        for (var i = 0; i < count; i++)
        {
            var copy = JsonNode.Parse(text)!;
            var index = i;
            RemoveAt(copy, ref index, top: true);
            var shrunk = copy.ToJsonString();
            if (shrunk != text && PolicyDocument.TryParse(shrunk, out var smaller, out _))
            {
                yield return smaller;
            }
        }
    }

    // ---------------------------------------------------------------- internals

    internal static PolicyTargets Targets(IReadOnlyList<PolicyDocument> policies)
    {
        ArgumentNullException.ThrowIfNull(policies);
        if (policies.Count == 0)
        {
            throw new ArgumentException("at least one policy is needed", nameof(policies));
        }

        return PolicyTargets.Of(policies);
    }

    internal static Gen<PolicyCall> CallGen(PolicyTargets targets, string[] tools)
    {
        if (tools.Length == 0)
        {
            throw new ArgumentException("no tool name to call: the pattern matches nothing that can be generated");
        }

        return from tool in Gen.Elements(tools)
               from call in CallGen(targets, tool)
               select call;
    }

    /// <summary>Calls of tools matching a glob: the policy's own matching names two times in three, filled-in names otherwise.</summary>
    internal static Gen<PolicyCall> PatternCallGen(PolicyTargets targets, string toolPattern)
    {
        var own = targets.OwnNamesMatching(toolPattern);
        var filled = targets.FilledNames(toolPattern).Except(own, StringComparer.Ordinal).ToArray();
        if (own.Length == 0 || filled.Length == 0)
        {
            return CallGen(targets, [.. own, .. filled]);
        }

        return Gen.Frequency((2, CallGen(targets, own)), (1, CallGen(targets, filled)));
    }

    internal static Gen<PolicyCall> CallGen(PolicyTargets targets, string tool)
    {
        var paths = targets.ForTool(tool);
        return from args in ObjectGen(paths.Args)
               from identity in IdentityGen(paths)
               select new PolicyCall(identity, tool, JsonText.Parse(args.ToJsonString()));
    }

    private static Gen<PolicyIdentity> IdentityGen(PolicyTargets.ToolPaths paths) =>
        from id in Gen.Elements(paths.Ids)
        from attributes in ObjectGen(paths.Identity)
        select new PolicyIdentity(id, attributes.ToDictionary(p => p.Key, p => JsonText.Parse(JsonText.Compact(p.Value)), StringComparer.Ordinal));

    /// <summary>An object with each path absent (one time in four) or set to one of its values, in random order.</summary>
    private static Gen<JsonObject> ObjectGen(PolicyTargets.PathValues[] paths)
    {
        if (paths.Length == 0)
        {
            return Gen.Fresh(() => new JsonObject());
        }

        var choices = paths.Select(p => Gen.Frequency(
            (1, Gen.Constant((p.Segments, Value: (string?)null))),
            (3, Gen.Elements(p.Groups).SelectMany(Gen.Elements).Select(v => (p.Segments, Value: (string?)v)))));
        // A path set first wins over paths through it (args.a = 5 hides args.a.b): half the time the shallow paths go
        // first, so that a predicate on args.a is not always shadowed by the many paths below it.
        return from chosen in Gen.CollectToArray(choices)
               from ordered in Gen.Shuffle(chosen)
               from shallowFirst in Gen.Elements(true, false)
               let order = shallowFirst ? ordered.OrderBy(c => c.Segments.Length).ToArray() : ordered
               select PolicyTargets.BuildObject(order.Where(c => c.Value is not null).Select(c => (c.Segments, c.Value!)));
    }

    internal static Gen<PolicyCall[]> SequenceGen(PolicyTargets targets, string[] tools)
    {
        if (tools.Length == 0)
        {
            throw new ArgumentException("no tool name to call: the pattern matches nothing that can be generated");
        }

        var limits = targets.Limits.Where(l => l.Entry is null || tools.Any(t => JsonText.GlobMatch(l.Entry, t))).Select(l => l.Limit).ToList();
        var windows = limits.Select(l => l.WindowLength).Distinct().ToArray();
        if (windows.Length == 0)
        {
            windows = [TimeSpan.FromMinutes(1)];
        }

        var longest = limits.Count == 0 ? 4 : (int)Math.Min(limits.Max(l => l.Max / Math.Max(1, l.Cost)), 40);
        var cap = Math.Max(6, (longest * 2) + 3);
        var gap = from window in Gen.Elements(windows)
                  from kind in Gen.Frequency(
                      (12, Gen.Constant(0)), (3, Gen.Constant(1)), (1, Gen.Constant(2)), (1, Gen.Constant(3)), (1, Gen.Constant(4)))
                  select kind switch
                  {
                      0 => TimeSpan.Zero,
                      1 => TimeSpan.FromSeconds(1),
                      2 => window / 2,
                      3 => window - TimeSpan.FromSeconds(1),
                      _ => window,
                  };
        var start = from window in Gen.Elements(windows)
                    from k in Gen.Choose(0, 3)
                    select Epoch + (k switch { 0 => TimeSpan.Zero, 1 => window - TimeSpan.FromSeconds(1), 2 => window / 2, _ => TimeSpan.FromSeconds(3) });
        return from poolSize in Gen.Choose(1, 3)
               from pool in CallGen(targets, tools).ArrayOf(poolSize)
               from length in Gen.Frequency((1, Gen.Choose(1, cap)), (2, Gen.Choose(Math.Max(1, cap / 2), cap)))
               from picks in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(0, poolSize - 1))).ArrayOf(length)
               from gaps in gap.ArrayOf(length)
               from first in start
               select Timed(pool, picks, gaps, first);
    }

    private static PolicyCall[] Timed(PolicyCall[] pool, int[] picks, TimeSpan[] gaps, DateTimeOffset first)
    {
        var calls = new PolicyCall[picks.Length];
        var at = first;
        for (var i = 0; i < picks.Length; i++)
        {
            at += i == 0 ? TimeSpan.Zero : gaps[i];
            calls[i] = pool[picks[i]].WithTime(at);
        }

        return calls;
    }

    private static IEnumerable<JsonElement> DropOneMember(JsonElement args)
    {
        if (args.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        var root = JsonNode.Parse(args.GetRawText())!;
        var count = CountMembers(root);
        for (var i = 0; i < count; i++)
        {
            var copy = JsonNode.Parse(args.GetRawText())!;
            var index = i;
            RemoveMember(copy, ref index);
            yield return JsonText.Parse(copy.ToJsonString());
        }
    }

    private static int CountMembers(JsonNode? node) =>
        node is JsonObject obj ? obj.Sum(p => 1 + CountMembers(p.Value)) : 0;

    private static bool RemoveMember(JsonNode? node, ref int index)
    {
        if (node is not JsonObject obj)
        {
            return false;
        }

        foreach (var (key, child) in obj.ToList())
        {
            if (index-- == 0)
            {
                obj.Remove(key);
                return true;
            }

            if (RemoveMember(child, ref index))
            {
                return true;
            }
        }

        return false;
    }

    private static int CountRemovable(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Sum(p => 1 + CountRemovable(p.Value)),
        JsonArray array => array.Sum(e => 1 + CountRemovable(e)),
        _ => 0,
    };

    private static bool RemoveAt(JsonNode? node, ref int index, bool top = false)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (index-- == 0)
                    {
                        // The version and default are required: removing them never gives a valid document.
                        if (!(top && key is "version" or "default"))
                        {
                            obj.Remove(key);
                        }

                        return true;
                    }

                    if (RemoveAt(child, ref index))
                    {
                        return true;
                    }
                }

                return false;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (index-- == 0)
                    {
                        array.RemoveAt(i);
                        return true;
                    }

                    if (RemoveAt(array[i], ref index))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
