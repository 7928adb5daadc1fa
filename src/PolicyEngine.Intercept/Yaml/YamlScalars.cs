using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace PolicyEngine.Intercept.Yaml;

/// <summary>
/// Reads YAML nodes the way Intercept's loader (Go, <c>gopkg.in/yaml.v3</c>) sees them: plain scalars resolve to
/// null, booleans, integers and floats by the YAML 1.2 core schema; quoted and block scalars are strings; a string
/// field accepts any scalar's text (so <c>version: 1</c> reads as <c>"1"</c>).
/// </summary>
internal static partial class YamlScalars
{
    private const string TagPrefix = "tag:yaml.org,2002:";

    /// <summary>The text of a scalar for a string field; <c>""</c> for null or absent; <see langword="null"/> when not a scalar.</summary>
    public static string? Text(YamlNode? node)
    {
        if (node is null)
        {
            return string.Empty;
        }

        if (node is not YamlScalarNode scalar)
        {
            return null;
        }

        return IsNull(scalar) ? string.Empty : scalar.Value ?? string.Empty;
    }

    /// <summary>True for a null scalar (<c>~</c>, <c>null</c>, or nothing at all) or a missing node.</summary>
    public static bool IsNull(YamlNode? node) =>
        node is null || (node is YamlScalarNode scalar && Tag(scalar) is null or "null" && scalar.Style is ScalarStyle.Plain or ScalarStyle.Any
            && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>Writes the node as a JSON value; returns a problem description when it cannot be represented.</summary>
    public static string? WriteJson(YamlNode node, Utf8JsonWriter writer)
    {
        var budget = MaxValueNodes;
        return WriteJson(node, writer, 0, ref budget);
    }

    /// <summary>Aliases can make a small file describe a huge value ("billion laughs"); values this large are refused.</summary>
    private const int MaxValueNodes = 100_000;

    private static string? WriteJson(YamlNode node, Utf8JsonWriter writer, int depth, ref int budget)
    {
        if (depth > 64)
        {
            return "the value is nested too deeply";
        }

        if (--budget < 0)
        {
            return $"the value has more than {MaxValueNodes} parts";
        }

        switch (node)
        {
            case YamlSequenceNode sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Children)
                {
                    if (WriteJson(item, writer, depth + 1, ref budget) is { } problem)
                    {
                        return problem;
                    }
                }

                writer.WriteEndArray();
                return null;

            case YamlMappingNode mapping:
                writer.WriteStartObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode keyScalar)
                    {
                        return "a mapping key inside a value must be a scalar";
                    }

                    writer.WritePropertyName(Text(keyScalar)!);
                    if (WriteJson(value, writer, depth + 1, ref budget) is { } problem)
                    {
                        return problem;
                    }
                }

                writer.WriteEndObject();
                return null;

            case YamlScalarNode scalar:
                return WriteScalar(scalar, writer);

            default:
                return "unsupported YAML node";
        }
    }

    /// <summary>Converts a node to a detached <see cref="JsonElement"/>, or returns the problem.</summary>
    public static JsonElement? ToElement(YamlNode node, out string? problem)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            problem = WriteJson(node, writer);
            if (problem is not null)
            {
                return null;
            }
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    private static string? WriteScalar(YamlScalarNode scalar, Utf8JsonWriter writer)
    {
        var value = scalar.Value ?? string.Empty;
        var tag = Tag(scalar);
        var plain = scalar.Style is ScalarStyle.Plain or ScalarStyle.Any;
        switch (tag)
        {
            case "str":
                writer.WriteStringValue(value);
                return null;
            case "null":
                writer.WriteNullValue();
                return null;
            case "bool":
                if (!TryBool(value, out var flag))
                {
                    return $"\"{value}\" is not a boolean";
                }

                writer.WriteBooleanValue(flag);
                return null;
            case "int":
            case "float":
                if (!TryNumber(value, out var number, out var nonFinite))
                {
                    return nonFinite ? $"the number \"{value}\" is not finite; JSON has no such number" : $"\"{value}\" is not a number";
                }

                writer.WriteRawValue(number);
                return null;
            case null when !plain:
                writer.WriteStringValue(value);
                return null;
            case null:
                if (IsNull(scalar))
                {
                    writer.WriteNullValue();
                    return null;
                }

                if (TryBool(value, out var boolean))
                {
                    writer.WriteBooleanValue(boolean);
                    return null;
                }

                if (TryNumber(value, out var json, out var infinite))
                {
                    writer.WriteRawValue(json);
                    return null;
                }

                if (infinite)
                {
                    return $"the number \"{value}\" is not finite; JSON has no such number";
                }

                writer.WriteStringValue(value);
                return null;
            default:
                return $"the YAML tag \"{scalar.Tag.Value}\" is not supported";
        }
    }

    /// <summary>The short name of a standard tag (<c>str</c>, <c>int</c>, …), "str" for the non-specific <c>!</c>, or null when untagged.</summary>
    private static string? Tag(YamlScalarNode scalar)
    {
        if (scalar.Tag.IsEmpty)
        {
            return null;
        }

        var tag = scalar.Tag.Value;
        if (tag == "!")
        {
            return "str";
        }

        return tag.StartsWith(TagPrefix, StringComparison.Ordinal) ? tag[TagPrefix.Length..] : tag;
    }

    private static bool TryBool(string text, out bool value)
    {
        switch (text)
        {
            case "true" or "True" or "TRUE":
                value = true;
                return true;
            case "false" or "False" or "FALSE":
                value = false;
                return true;
            default:
                value = false;
                return false;
        }
    }

    /// <summary>A YAML 1.2 core-schema number (with yaml.v3's underscores and 0b/0o/0x prefixes) as JSON number text.</summary>
    internal static bool TryNumber(string text, out string json, out bool nonFinite)
    {
        json = string.Empty;
        nonFinite = InfinityOrNaN().IsMatch(text);
        if (nonFinite)
        {
            return false;
        }

        var compact = text.Contains('_', StringComparison.Ordinal) && Digit().IsMatch(text) ? text.Replace("_", string.Empty, StringComparison.Ordinal) : text;
        var match = PrefixedInteger().Match(compact);
        if (match.Success)
        {
            var negative = match.Groups["sign"].Value == "-";
            var digits = match.Groups["digits"].Value;
            var radix = char.ToLowerInvariant(match.Groups["radix"].Value[1]) switch { 'x' => 16, 'o' => 8, _ => 2 };
            var result = BigInteger.Zero;
            foreach (var c in digits)
            {
                result = (result * radix) + Convert.ToInt32(c.ToString(), 16);
            }

            json = (negative ? -result : result).ToString(CultureInfo.InvariantCulture);
            return true;
        }

        match = DecimalNumber().Match(compact);
        if (!match.Success)
        {
            return false;
        }

        var sign = match.Groups["sign"].Value == "-" ? "-" : string.Empty;
        var integer = match.Groups["int"].Value.TrimStart('0');
        var fraction = match.Groups["frac"].Value;
        var exponent = match.Groups["exp"].Value;
        json = sign + (integer.Length == 0 ? "0" : integer) + (fraction.Length > 0 ? "." + fraction : string.Empty) + (exponent.Length > 0 ? "e" + exponent : string.Empty);
        return true;
    }

    [GeneratedRegex(@"^[-+]?\.(inf|Inf|INF)$|^\.(nan|NaN|NAN)$", RegexOptions.CultureInvariant)]
    private static partial Regex InfinityOrNaN();

    [GeneratedRegex(@"[0-9]", RegexOptions.CultureInvariant)]
    private static partial Regex Digit();

    [GeneratedRegex(@"^(?<sign>[-+]?)(?<radix>0[xX])(?<digits>[0-9a-fA-F]+)$|^(?<sign>[-+]?)(?<radix>0[oO])(?<digits>[0-7]+)$|^(?<sign>[-+]?)(?<radix>0[bB])(?<digits>[01]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixedInteger();

    [GeneratedRegex(@"^(?<sign>[-+]?)(?:\.(?<frac>[0-9]+)|(?<int>[0-9]+)(?:\.(?<frac>[0-9]*))?)(?:[eE](?<exp>[-+]?[0-9]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex DecimalNumber();
}
