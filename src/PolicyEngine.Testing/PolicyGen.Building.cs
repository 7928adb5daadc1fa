using System.Text.Json;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing;

// The generators' building blocks: the paths and values a policy reads, calls and timed call sequences, shrinking helpers.
public static partial class PolicyGen
{
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
        var windows = limits.Select(l => l.Window).Distinct().ToArray();
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
