using System.Text;

namespace PolicyEngine.Json;

/// <summary>Builds RFC 6901 JSON Pointers from a stack of segments, only when one is needed.</summary>
internal sealed class PointerBuilder
{
    private readonly List<string> _segments = new(16);

    public int Depth => _segments.Count;

    public void Push(string segment) => _segments.Add(segment);

    public void Push(int index) => _segments.Add(index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Pop() => _segments.RemoveAt(_segments.Count - 1);

    public string Current => Build(null);

    public string With(string last) => Build(last);

    private string Build(string? last)
    {
        if (_segments.Count == 0 && last is null)
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (var segment in _segments)
        {
            Append(text, segment);
        }

        if (last is not null)
        {
            Append(text, last);
        }

        return text.ToString();
    }

    public static string Escape(string segment) =>
        segment.Contains('~') || segment.Contains('/') ? segment.Replace("~", "~0").Replace("/", "~1") : segment;

    private static void Append(StringBuilder text, string segment) => text.Append('/').Append(Escape(segment));
}
