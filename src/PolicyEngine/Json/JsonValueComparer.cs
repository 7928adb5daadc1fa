using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using PolicyEngine.Json.Numbers;

namespace PolicyEngine.Json;

/// <summary>
/// JSON value equality as the policy language defines it: same JSON type and same value, numbers compared exactly,
/// strings ordinally after unescaping, arrays in order, objects as unordered key sets.
/// </summary>
/// <remarks>
/// Equality agrees exactly with <see cref="CanonicalJson"/>: two values are equal here if and only if their canonical
/// bytes are identical. That includes objects with duplicate keys: properties are matched by key, and among properties
/// sharing a key by their order of appearance (the k-th <c>"a"</c> of one object against the k-th <c>"a"</c> of the
/// other), which is the order canonical output keeps them in.
/// </remarks>
internal static class JsonValueComparer
{
    /// <summary>Nesting beyond this is compared by its whitespace-insensitive text, so recursion cannot exhaust the stack.</summary>
    internal const int MaxDepth = 256;

    /// <summary>Objects up to this size are matched pairwise (no allocation); larger ones are sorted first.</summary>
    private const int SmallObject = 16;

    /// <summary>
    /// True when <paramref name="element"/> nests containers deeper than <see cref="MaxDepth"/>: past that depth
    /// equality and canonical JSON read text as written, so two spellings of one such value are not recognised as equal.
    /// </summary>
    public static bool IsDeeperThanMaxDepth(JsonElement element) => HasContainerAtMaxDepth(element, 0);

    private static bool HasContainerAtMaxDepth(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= MaxDepth)
                {
                    return true;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (HasContainerAtMaxDepth(property.Value, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                if (depth >= MaxDepth)
                {
                    return true;
                }

                foreach (var item in element.EnumerateArray())
                {
                    if (HasContainerAtMaxDepth(item, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>True when both elements have the same JSON type and value. Never throws.</summary>
    public static bool DeepEquals(JsonElement a, JsonElement b) => DeepEquals(a, b, 0);

    private static bool DeepEquals(JsonElement a, JsonElement b, int depth)
    {
        JsonValueKind kind = a.ValueKind;
        if (kind != b.ValueKind)
        {
            return false;
        }

        switch (kind)
        {
            case JsonValueKind.Number:
                return ExactNumber.ValueEquals(JsonMarshal.GetRawUtf8Value(a), JsonMarshal.GetRawUtf8Value(b));
            case JsonValueKind.String:
                return JsonStringCursor.ValueEquals(JsonMarshal.GetRawUtf8Value(a), JsonMarshal.GetRawUtf8Value(b));
            case JsonValueKind.Array:
                return depth >= MaxDepth ? MinifiedTextEquals(a, b) : ArrayEquals(a, b, depth);
            case JsonValueKind.Object:
                return depth >= MaxDepth ? MinifiedTextEquals(a, b) : ObjectEquals(a, b, depth);
            default:
                // true, false, null, and two default (Undefined) elements.
                return true;
        }
    }

    private static bool ArrayEquals(JsonElement a, JsonElement b, int depth)
    {
        if (a.GetArrayLength() != b.GetArrayLength())
        {
            return false;
        }

        JsonElement.ArrayEnumerator itemsB = b.EnumerateArray();
        foreach (JsonElement itemA in a.EnumerateArray())
        {
            itemsB.MoveNext();
            if (!DeepEquals(itemA, itemsB.Current, depth + 1))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ObjectEquals(JsonElement a, JsonElement b, int depth)
    {
        int count = a.GetPropertyCount();
        if (count != b.GetPropertyCount())
        {
            return false;
        }

        return count <= SmallObject ? SmallObjectEquals(a, b, depth) : LargeObjectEquals(a, b, count, depth);
    }

    private static bool SmallObjectEquals(JsonElement a, JsonElement b, int depth)
    {
        int index = 0;
        foreach (JsonProperty propertyA in a.EnumerateObject())
        {
            ReadOnlySpan<byte> name = JsonMarshal.GetRawUtf8PropertyName(propertyA);

            // Which occurrence of this key is it? Duplicates pair up in order of appearance.
            int occurrence = 0;
            int earlier = 0;
            foreach (JsonProperty previous in a.EnumerateObject())
            {
                if (earlier++ == index)
                {
                    break;
                }

                if (JsonStringCursor.ValueEquals(JsonMarshal.GetRawUtf8PropertyName(previous), name))
                {
                    occurrence++;
                }
            }

            bool matched = false;
            foreach (JsonProperty propertyB in b.EnumerateObject())
            {
                if (!JsonStringCursor.ValueEquals(JsonMarshal.GetRawUtf8PropertyName(propertyB), name))
                {
                    continue;
                }

                if (occurrence-- == 0)
                {
                    if (!DeepEquals(propertyA.Value, propertyB.Value, depth + 1))
                    {
                        return false;
                    }

                    matched = true;
                    break;
                }
            }

            if (!matched)
            {
                return false;
            }

            index++;
        }

        return true;
    }

    private static bool LargeObjectEquals(JsonElement a, JsonElement b, int count, int depth)
    {
        // Sorting both sides by (key, position) pairs the k-th duplicate with the k-th duplicate in O(n log n).
        JsonProperty[] propertiesA = ArrayPool<JsonProperty>.Shared.Rent(count);
        JsonProperty[] propertiesB = ArrayPool<JsonProperty>.Shared.Rent(count);
        int[] orderA = ArrayPool<int>.Shared.Rent(count);
        int[] orderB = ArrayPool<int>.Shared.Rent(count);
        try
        {
            Fill(a, propertiesA, orderA);
            Fill(b, propertiesB, orderB);
            orderA.AsSpan(0, count).Sort(new PropertyOrder(propertiesA));
            orderB.AsSpan(0, count).Sort(new PropertyOrder(propertiesB));
            for (int i = 0; i < count; i++)
            {
                JsonProperty propertyA = propertiesA[orderA[i]];
                JsonProperty propertyB = propertiesB[orderB[i]];
                if (!JsonStringCursor.ValueEquals(
                        JsonMarshal.GetRawUtf8PropertyName(propertyA),
                        JsonMarshal.GetRawUtf8PropertyName(propertyB))
                    || !DeepEquals(propertyA.Value, propertyB.Value, depth + 1))
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            ArrayPool<JsonProperty>.Shared.Return(propertiesA, clearArray: true);
            ArrayPool<JsonProperty>.Shared.Return(propertiesB, clearArray: true);
            ArrayPool<int>.Shared.Return(orderA);
            ArrayPool<int>.Shared.Return(orderB);
        }
    }

    /// <summary>Copies an object's properties into <paramref name="properties"/> and their positions into <paramref name="order"/>.</summary>
    internal static int Fill(JsonElement element, JsonProperty[] properties, int[] order)
    {
        int i = 0;
        foreach (JsonProperty property in element.EnumerateObject())
        {
            properties[i] = property;
            order[i] = i;
            i++;
        }

        return i;
    }

    private static bool MinifiedTextEquals(JsonElement a, JsonElement b)
    {
        var readerA = new MinifiedJsonReader(JsonMarshal.GetRawUtf8Value(a));
        var readerB = new MinifiedJsonReader(JsonMarshal.GetRawUtf8Value(b));
        while (true)
        {
            bool hasA = readerA.TryNext(out byte byteA);
            bool hasB = readerB.TryNext(out byte byteB);
            if (!hasA || !hasB)
            {
                return hasA == hasB;
            }

            if (byteA != byteB)
            {
                return false;
            }
        }
    }
}
