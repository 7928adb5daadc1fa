using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using System.Text.Json;

namespace PolicyEngine.Json;

/// <summary>
/// A canonical JSON encoding: equal values (per <see cref="JsonValueComparer.DeepEquals(JsonElement, JsonElement)"/>) give identical bytes, and
/// different values give different bytes. Used to hash arguments for audit events and approval fingerprints.
/// </summary>
/// <remarks>
/// Rules:
/// <list type="bullet">
/// <item>No whitespace. <c>true</c>, <c>false</c>, <c>null</c> as usual.</item>
/// <item>Object properties sorted by key in ordinal UTF-16 order of the unescaped key; properties with the same key
/// (duplicates) are all kept, in document order.</item>
/// <item>Strings: unescaped, then re-escaped as <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, other control characters
/// and lone surrogates as lowercase <c>\u00xx</c>/<c>\udxxx</c>; every other character (including <c>/</c>, DEL and
/// non-ASCII) as raw UTF-8. Lone surrogates are kept rather than replaced so that different strings never collide.</item>
/// <item>Numbers: from the normalised form (sign, significant digits d1..dn, adjusted exponent A = place value of d1).
/// Zero is <c>0</c> (so <c>-0</c> is <c>0</c>). When 0 &lt;= A &lt; 21 plain digits (<c>100</c>, <c>12.5</c>); when
/// -7 &lt; A &lt; 0 a leading <c>0.</c> (<c>0.001</c>); otherwise <c>d1[.d2..dn]E+A</c> or <c>E-A</c>
/// (<c>1E+21</c>, <c>1.5E-7</c>), the exponent exact for any size.</item>
/// <item>Values nested deeper than <see cref="JsonValueComparer.MaxDepth"/> are written as their minified source text.</item>
/// </list>
/// </remarks>
internal static partial class CanonicalJson
{
    private const int PlainExponentLimit = 21;
    private const int SmallFractionLimit = -7;

    /// <summary>
    /// Writes the canonical form of <paramref name="element"/> as one raw value. A default (Undefined) element,
    /// which is not JSON, is written as <c>null</c>.
    /// </summary>
    public static void Write(Utf8JsonWriter writer, JsonElement element)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteNullValue();
            return;
        }

        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            writer.WriteRawValue(sink.Written, skipInputValidation: true);
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>The canonical UTF-8 bytes of <paramref name="element"/> (empty for a default/Undefined element).</summary>
    public static byte[] ToCanonicalBytes(JsonElement element)
    {
        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            return sink.Written.ToArray();
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>SHA-256 of the canonical bytes into <paramref name="destination"/> (at least 32 bytes).</summary>
    public static void Sha256(JsonElement element, Span<byte> destination)
    {
        var sink = new ByteSink(256);
        try
        {
            WriteValue(ref sink, element, 0);
            SHA256.HashData(sink.Written, destination);
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>SHA-256 of the canonical bytes (32 bytes).</summary>
    public static byte[] Sha256(JsonElement element)
    {
        byte[] hash = new byte[SHA256.HashSizeInBytes];
        Sha256(element, hash);
        return hash;
    }

    /// <summary>SHA-256 of the canonical bytes as 64 lowercase hex characters.</summary>
    public static string Sha256Hex(JsonElement element)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Sha256(element, hash);
        return Convert.ToHexStringLower(hash);
    }

    private static void WriteValue(ref ByteSink sink, JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= JsonValueComparer.MaxDepth)
                {
                    WriteMinified(ref sink, element);
                }
                else
                {
                    WriteObject(ref sink, element, depth);
                }

                break;
            case JsonValueKind.Array:
                if (depth >= JsonValueComparer.MaxDepth)
                {
                    WriteMinified(ref sink, element);
                    break;
                }

                sink.Write((byte)'[');
                bool first = true;
                foreach (JsonElement item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        sink.Write((byte)',');
                    }

                    first = false;
                    WriteValue(ref sink, item, depth + 1);
                }

                sink.Write((byte)']');
                break;
            case JsonValueKind.String:
                WriteString(ref sink, JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.Number:
                WriteNumber(ref sink, JsonMarshal.GetRawUtf8Value(element));
                break;
            case JsonValueKind.True:
                sink.Write("true"u8);
                break;
            case JsonValueKind.False:
                sink.Write("false"u8);
                break;
            case JsonValueKind.Null:
                sink.Write("null"u8);
                break;
            default:
                break;
        }
    }

    private static void WriteObject(ref ByteSink sink, JsonElement element, int depth)
    {
        int count = element.GetPropertyCount();
        sink.Write((byte)'{');
        if (count > 0)
        {
            JsonProperty[] properties = ArrayPool<JsonProperty>.Shared.Rent(count);
            int[] order = ArrayPool<int>.Shared.Rent(count);
            try
            {
                JsonValueComparer.Fill(element, properties, order);
                order.AsSpan(0, count).Sort(new PropertyOrder(properties));
                for (int i = 0; i < count; i++)
                {
                    if (i > 0)
                    {
                        sink.Write((byte)',');
                    }

                    JsonProperty property = properties[order[i]];
                    WriteString(ref sink, JsonMarshal.GetRawUtf8PropertyName(property));
                    sink.Write((byte)':');
                    WriteValue(ref sink, property.Value, depth + 1);
                }
            }
            finally
            {
                ArrayPool<JsonProperty>.Shared.Return(properties, clearArray: true);
                ArrayPool<int>.Shared.Return(order);
            }
        }

        sink.Write((byte)'}');
    }

    private static void WriteMinified(ref ByteSink sink, JsonElement element)
    {
        var reader = new MinifiedJsonReader(JsonMarshal.GetRawUtf8Value(element));
        while (reader.TryNext(out byte b))
        {
            sink.Write(b);
        }
    }
}
