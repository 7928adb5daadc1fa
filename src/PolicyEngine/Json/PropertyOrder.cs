using System.Runtime.InteropServices;
using System.Text.Json;

namespace PolicyEngine.Json;

/// <summary>
/// Orders indices into an array of object properties by key (ordinal UTF-16 of the unescaped name), then by position.
/// </summary>
/// <remarks>
/// The position tie-break makes duplicate keys keep their document order, and makes the order strict and total, so an
/// unstable sort still produces one deterministic result. A struct comparer keeps the generic sort free of boxing.
/// </remarks>
internal readonly struct PropertyOrder : IComparer<int>
{
    private readonly JsonProperty[] _properties;

    /// <summary>Orders indices into <paramref name="properties"/>.</summary>
    public PropertyOrder(JsonProperty[] properties) => _properties = properties;

    /// <inheritdoc />
    public int Compare(int x, int y)
    {
        int byName = JsonStringCursor.CompareOrdinal(
            JsonMarshal.GetRawUtf8PropertyName(_properties[x]),
            JsonMarshal.GetRawUtf8PropertyName(_properties[y]));
        return byName != 0 ? byName : x.CompareTo(y);
    }
}
