using System.Text.Json;

namespace PolicyEngine.Documents.Parsing;

// The parser, its reader kit: errors with pointers, objects with known keys, strings and positive integers.
internal sealed partial class PolicyParser
{
    private void Error(string pointer, string message)
    {
        if (_errors.Count >= MaxErrors)
        {
            _droppedErrors++;
            return;
        }

        _errors.Add(new PolicyError(pointer, message));
    }

    private void ErrorHere(string message) => Error(_at.Current, message);

    private void ErrorAt(string key, string message) => Error(_at.With(key), message);

    private static string Quote(string text)
    {
        const int Max = 80;
        var shown = text.Length > Max ? string.Concat(text.AsSpan(0, Max), "…") : text;
        return JsonSerializer.Serialize(shown);
    }

    private static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string OneOf(string[] names) => string.Join(", ", names.Select(n => "\"" + n + "\""));

    /// <summary>
    /// Reads an object's properties into <paramref name="values"/> (indexed like <paramref name="known"/>),
    /// reporting unknown and duplicate keys. Returns false (and reports) when the element is not an object.
    /// </summary>
    private bool ReadObject(JsonElement element, string what, string[] known, JsonElement?[] values, string[]? v2Only = null)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"{what} must be an object, not {KindName(element.ValueKind)}");
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            var index = Array.IndexOf(known, property.Name);
            if (index < 0)
            {
                ErrorAt(property.Name, $"unknown key {Quote(property.Name)} in {what}; expected one of {OneOf(known)}{Suggest(property.Name, known)}");
                CheckValueTree(property.Value, property.Name);
                continue;
            }

            if (values[index] is not null)
            {
                ErrorAt(property.Name, $"duplicate key {Quote(property.Name)}: a key may appear only once in an object");
                continue;
            }

            if (!_v2 && v2Only is not null && Array.IndexOf(v2Only, property.Name) >= 0)
            {
                ErrorAt(property.Name, $"{Quote(property.Name)} needs version \"2\"; change \"version\" to \"2\" to use it");
            }

            values[index] = property.Value;
        }

        return true;
    }

    private static string Suggest(string name, string[] known)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in known)
        {
            var distance = EditDistance(name, candidate);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = candidate;
            }
        }

        return best is not null && bestDistance <= Math.Max(1, best.Length / 3) ? $" (did you mean \"{best}\"?)" : string.Empty;
    }

    private static int EditDistance(string a, string b)
    {
        if (a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>
    /// Walks a free-form value (an operand, an args_schema, an unknown key's value) only to reject duplicate keys:
    /// the document must not mean two things.
    /// </summary>
    private void CheckValueTree(JsonElement element, string segment)
    {
        _at.Push(segment);
        CheckValueTree(element);
        _at.Pop();
    }

    private void CheckValueTree(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                HashSet<string>? seen = null;
                foreach (var property in element.EnumerateObject())
                {
                    seen ??= new HashSet<string>(StringComparer.Ordinal);
                    if (!seen.Add(property.Name))
                    {
                        ErrorAt(property.Name, $"duplicate key {Quote(property.Name)}: a key may appear only once in an object");
                    }

                    CheckValueTree(property.Value, property.Name);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    _at.Push(index++);
                    CheckValueTree(item);
                    _at.Pop();
                }

                break;
        }
    }

    private string? ReadString(JsonElement? element, string key, bool required, string what, bool nonEmpty = true)
    {
        if (element is not { } value)
        {
            if (required)
            {
                ErrorHere($"{what} is missing the required key {Quote(key)}");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            ErrorAt(key, $"{Quote(key)} must be a string, not {KindName(value.ValueKind)}");
            return null;
        }

        var text = value.GetString()!;
        if (nonEmpty && text.Length == 0)
        {
            ErrorAt(key, $"{Quote(key)} must not be empty");
            return null;
        }

        return text;
    }

    private long? ReadPositiveInteger(JsonElement? element, string key, bool required, string what)
    {
        if (element is not { } value)
        {
            if (required)
            {
                ErrorHere($"{what} is missing the required key {Quote(key)}");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            ErrorAt(key, $"{Quote(key)} must be an integer of at least 1, not {KindName(value.ValueKind)}");
            return null;
        }

        if (value.TryGetInt64(out var whole))
        {
            if (whole >= 1)
            {
                return whole;
            }
        }
        else if (value.TryGetDecimal(out var number) && number == decimal.Truncate(number)
                 && number >= 1 && number <= long.MaxValue && HasNoExcessPrecision(value))
        {
            return (long)number;
        }
        else if (value.TryGetDouble(out var big) && big > long.MaxValue)
        {
            ErrorAt(key, $"{Quote(key)} is too large; the largest allowed value is {long.MaxValue}");
            return null;
        }

        ErrorAt(key, $"{Quote(key)} must be an integer (a whole number) of at least 1, not {Truncate(value.GetRawText())}");
        return null;
    }

    // decimal parsing rounds beyond 28 digits; an integer that only looks whole after rounding is not whole.
    private static bool HasNoExcessPrecision(JsonElement value) => value.GetRawText().Length <= 28;

    /// <summary>
    /// The values <see cref="ReadObject"/> read, looked up by key name, so reordering a key array cannot make a reader
    /// take one key's value for another's. Naming a key the array lacks is a bug in the reader and throws.
    /// </summary>
    private readonly struct Fields(string[] known, JsonElement?[] values)
    {
        public JsonElement? this[string key] =>
            Array.IndexOf(known, key) is var index and >= 0 ? values[index] : throw new ArgumentException($"the parser reads \"{key}\", which is not among its known keys", nameof(key));
    }
}
