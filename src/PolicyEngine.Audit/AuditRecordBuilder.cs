using System.Globalization;
using System.Text;

namespace PolicyEngine.Audit;

/// <summary>
/// Writes one record's compact JSON text byte for byte the same way every time (the hash covers the exact bytes).
/// Strings keep every character: quotes, backslashes, control characters and lone surrogates are escaped as
/// <c>\uXXXX</c> (or the short escapes), everything else is written as itself.
/// </summary>
internal sealed class AuditRecordBuilder
{
    private readonly StringBuilder _text = new(512);
    private bool _first = true;

    public AuditRecordBuilder(long seq, DateTimeOffset time, string type)
    {
        _text.Append('{');
        Number("seq", seq);
        String("time", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        String("type", type);
    }

    public AuditRecordBuilder String(string name, string? value)
    {
        Name(name);
        if (value is null)
        {
            _text.Append("null");
        }
        else
        {
            Quote(value);
        }

        return this;
    }

    public AuditRecordBuilder Number(string name, long value)
    {
        Name(name);
        _text.Append(value.ToString(CultureInfo.InvariantCulture));
        return this;
    }

    public AuditRecordBuilder Boolean(string name, bool value)
    {
        Name(name);
        _text.Append(value ? "true" : "false");
        return this;
    }

    public AuditRecordBuilder Strings(string name, IReadOnlyList<string> values)
    {
        Name(name);
        _text.Append('[');
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                _text.Append(',');
            }

            Quote(values[i]);
        }

        _text.Append(']');
        return this;
    }

    /// <summary>The record without its hash: the fields, then <c>"prev"</c>, as UTF-8.</summary>
    public byte[] Body(string prev)
    {
        String("prev", prev);
        _text.Append('}');
        return Encoding.UTF8.GetBytes(_text.ToString());
    }

    private void Name(string name)
    {
        if (!_first)
        {
            _text.Append(',');
        }

        _first = false;
        Quote(name);
        _text.Append(':');
    }

    private void Quote(string value)
    {
        _text.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"':
                    _text.Append("\\\"");
                    break;
                case '\\':
                    _text.Append("\\\\");
                    break;
                case '\n':
                    _text.Append("\\n");
                    break;
                case '\r':
                    _text.Append("\\r");
                    break;
                case '\t':
                    _text.Append("\\t");
                    break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || (char.IsSurrogate(c) && !IsPairAt(value, i)))
                    {
                        _text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c))
                    {
                        _text.Append(c).Append(value[++i]);
                    }
                    else
                    {
                        _text.Append(c);
                    }

                    break;
            }
        }

        _text.Append('"');
    }

    private static bool IsPairAt(string value, int i) =>
        char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
}
