using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using PolicyEngine.Json;

namespace PolicyEngine.Compilation.Predicates;

/// <summary>
/// A dotted path (<c>args.a.b</c>, <c>identity.roles</c>) split once into segments. Resolving walks objects by
/// name and arrays by index. An object with the segment's key more than once is ambiguous: the tool behind the
/// policy might read either copy, so resolution reports it and the evaluator denies.
/// </summary>
internal sealed class CompiledPath
{
    private readonly string[] _names;
    private readonly byte[][] _utf8Names;
    private readonly int[] _indexes;

    public CompiledPath(string path)
    {
        Text = path;
        var parts = path.Split('.');
        IsIdentity = parts[0] == "identity";
        _names = parts[1..];
        _utf8Names = new byte[_names.Length][];
        _indexes = new int[_names.Length];
        for (var i = 0; i < _names.Length; i++)
        {
            _utf8Names[i] = Encoding.UTF8.GetBytes(_names[i]);
            _indexes[i] = _names[i].Length <= 9 && int.TryParse(_names[i], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && index.ToString(CultureInfo.InvariantCulture) == _names[i] ? index : -1;
        }
    }

    public string Text { get; }

    public bool IsIdentity { get; }

    /// <summary>How many segments follow <c>args.</c> or <c>identity.</c>.</summary>
    public int Length => _names.Length;

    /// <summary>The first segment after <c>args.</c> (the top-level argument name).</summary>
    public string FirstName => _names[0];

    /// <summary>Finds the value at the path. Returns <see cref="PathResult.Absent"/> for a missing path or a present <c>null</c>.</summary>
    public PathResult Resolve(in EvaluationContext context, out JsonElement value)
    {
        int start;
        if (IsIdentity)
        {
            if (!context.Identity.Table.TryGetValue(_names[0], out value))
            {
                return PathResult.Absent;
            }

            start = 1;
        }
        else if (context.ArgsDictionary is { } dictionary)
        {
            if (!dictionary.TryGetValue(_names[0], out value))
            {
                return PathResult.Absent;
            }

            start = 1;
        }
        else
        {
            value = context.Args;
            start = 0;
        }

        for (var i = start; i < _names.Length; i++)
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Object:
                    var found = false;
                    JsonElement next = default;
                    foreach (var property in value.EnumerateObject())
                    {
                        if (StringValue.NameEquals(property, _utf8Names[i], _names[i]))
                        {
                            if (found)
                            {
                                value = default;
                                return PathResult.Ambiguous;
                            }

                            found = true;
                            next = property.Value;
                        }
                    }

                    if (!found)
                    {
                        value = default;
                        return PathResult.Absent;
                    }

                    value = next;
                    break;
                case JsonValueKind.Array when _indexes[i] >= 0 && _indexes[i] < value.GetArrayLength():
                    value = value[_indexes[i]];
                    break;
                default:
                    value = default;
                    return PathResult.Absent;
            }
        }

        return value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined ? PathResult.Absent : PathResult.Found;
    }
}

/// <summary>The outcome of resolving a <see cref="CompiledPath"/>.</summary>
internal enum PathResult
{
    /// <summary>The path is missing or its value is <c>null</c>.</summary>
    Absent,

    /// <summary>The path has a non-null value.</summary>
    Found,

    /// <summary>An object on the path has the same key twice.</summary>
    Ambiguous,
}
