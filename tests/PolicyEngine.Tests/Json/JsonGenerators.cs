using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Tests.Json;

/// <summary>
/// Random JSON texts drawn from a small vocabulary, so that equal values (spelled differently) turn up often.
/// </summary>
internal static class JsonGenerators
{
    // Each inner array is a set of spellings of one value.
    private static readonly string[][] Numbers =
    [
        ["0", "-0", "0.0", "0e5"],
        ["1", "1.0", "10e-1", "0.1E1"],
        ["100", "1e2", "1E+2", "10000e-2"],
        ["-2.5", "-25e-1", "-0.25e1"],
        ["9007199254740993", "9007199254740993.000"],
        ["1e400", "10e399"],
        ["1e-7", "0.0000001", "0.1e-6"],
        ["1e99999999999999999999", "0.01e100000000000000000001"],
    ];

    private static readonly string[][] Strings =
    [
        ["\"a\"", "\"\\u0061\""],
        ["\"b\"", "\"\\u0062\""],
        ["\"A\"", "\"\\u0041\""],
        ["\"\"", "\"\""],
        ["\"a/b\"", "\"a\\/b\""],
        ["\"\\u0000\"", "\"\\u0000\""],
        ["\"\\ud800\"", "\"\\uD800\""],
        ["\"😀\"", "\"\\ud83d\\ude00\""],
        ["\"\\uffff\"", "\"\uffff\""],
        ["\"tab\\t\"", "\"tab\\u0009\""],
        ["\"\\\"q\"", "\"\\u0022q\""],
    ];

    private static readonly string[][] Keys =
    [
        ["\"a\"", "\"\\u0061\""],
        ["\"b\"", "\"b\""],
        ["\"A\"", "\"A\""],
        ["\"😀\"", "\"\\ud83d\\ude00\""],
        ["\"\\uffff\"", "\"\uffff\""],
    ];

    /// <summary>A random JSON text.</summary>
    public static Gen<string> Json() => JsonWithRespelling().Select(pair => pair.Item1);

    /// <summary>A random JSON text and another spelling of the same value (reordered keys, other number and escape spellings).</summary>
    public static Gen<Tuple<string, string>> JsonWithRespelling() => Gen.Sized(size => Value(Math.Min(size, 12), 0));

    private static Gen<Tuple<string, string>> Spellings(string[][] sets) =>
        from set in Gen.Elements(sets)
        from first in Gen.Elements(set)
        from second in Gen.Elements(set)
        select Tuple.Create(first, second);

    private static Gen<Tuple<string, string>> Value(int size, int depth)
    {
        Gen<Tuple<string, string>> leaf = Gen.OneOf(
            Spellings(Numbers),
            Spellings(Strings),
            Gen.Elements("true", "false", "null").Select(s => Tuple.Create(s, s)));
        if (size <= 0 || depth >= 4)
        {
            return leaf;
        }

        Gen<Tuple<string, string>> array =
            from items in Value(size / 3, depth + 1).ListOf().Select(l => l.Take(4).ToList())
            select Tuple.Create(
                "[" + string.Join(",", items.Select(i => i.Item1)) + "]",
                "[ " + string.Join(" , ", items.Select(i => i.Item2)) + " ]");

        Gen<Tuple<string, string>> member =
            from key in Spellings(Keys)
            from value in Value(size / 3, depth + 1)
            select Tuple.Create(key.Item1 + ":" + value.Item1, key.Item2 + ":" + value.Item2);

        Gen<Tuple<string, string>> obj =
            from members in member.ListOf().Select(l => l.Take(5).ToList())
            from seed in Gen.Choose(0, 1000)
            select Tuple.Create(
                "{" + string.Join(",", members.Select(m => m.Item1)) + "}",
                "{" + string.Join(",", StableShuffleDistinctKeys(members, seed).Select(m => m.Item2)) + "}");

        return Gen.Frequency(
            (3, leaf),
            (1, array),
            (1, obj));
    }

    /// <summary>
    /// Reorders members while keeping members with the same key in their original relative order (the order among
    /// duplicates is part of the value).
    /// </summary>
    private static List<Tuple<string, string>> StableShuffleDistinctKeys(List<Tuple<string, string>> members, int seed)
    {
        string KeyOf(Tuple<string, string> m) => Canon(m.Item1[..(m.Item1.IndexOf("\":", StringComparison.Ordinal) + 1)]);
        var groups = members.GroupBy(KeyOf).ToList();
        var random = new Random(seed);
        var order = groups.OrderBy(_ => random.Next()).ToList();
        var queues = order.ToDictionary(g => g.Key, g => new Queue<Tuple<string, string>>(g));
        var result = new List<Tuple<string, string>>();
        var keysInSlots = members.Select(KeyOf).OrderBy(_ => random.Next()).ToList();
        foreach (string key in keysInSlots)
        {
            result.Add(queues[key].Dequeue());
        }

        return result;
    }

    private static string Canon(string key)
    {
        foreach (string[] set in Keys)
        {
            if (set.Contains(key))
            {
                return set[0];
            }
        }

        return key;
    }
}
