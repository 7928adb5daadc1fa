using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyEngine.Intercept.Go;
using PolicyEngine.Intercept.Model;
using PolicyEngine.Intercept.Yaml;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using OperatorTable = PolicyEngine.Documents.Operators;

namespace PolicyEngine.Intercept;

// The Intercept reader, state counters and the rate_limit shorthand ("N/window").
internal sealed partial class InterceptReader
{

    private InterceptState ReadState(YamlNode node, string pointer)
    {
        var state = new InterceptState(pointer);
        if (node is not YamlMappingNode map)
        {
            Error(pointer, "state must be a mapping with \"counter\" and \"window\"");
            return state;
        }

        var values = ReadMapping(map, pointer, StateKeys);
        state.Counter = ReadString(values["counter"], pointer + "/counter") ?? string.Empty;
        if (state.Counter.Length == 0)
        {
            Error(values["counter"] is null ? pointer : pointer + "/counter", "counter must not be empty");
        }

        state.Window = ReadString(values["window"], pointer + "/window") ?? string.Empty;
        if (Array.IndexOf(Windows, state.Window) < 0)
        {
            Error(values["window"] is null ? pointer : pointer + "/window", $"window must be \"minute\", \"hour\", or \"day\", got \"{state.Window}\"");
        }

        state.IncrementFrom = ReadString(values["increment_from"], pointer + "/increment_from") ?? string.Empty;
        if (state.IncrementFrom.Length > 0)
        {
            if (!state.IncrementFrom.StartsWith("args.", StringComparison.Ordinal))
            {
                Error(pointer + "/increment_from", $"increment_from must start with \"args.\", got \"{state.IncrementFrom}\"");
            }
            else if (!ValidArgsPath(state.IncrementFrom))
            {
                Error(pointer + "/increment_from", $"the path \"{state.IncrementFrom}\" is not valid: write \"args.\" followed by dot-separated names, such as \"args.amount\"");
            }
        }

        if (values["increment"] is { } incrementNode && !YamlScalars.IsNull(incrementNode))
        {
            var text = YamlScalars.Text(incrementNode);
            if (text is null || incrementNode is YamlScalarNode { Style: not (ScalarStyle.Plain or ScalarStyle.Any) }
                || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var increment))
            {
                Error(pointer + "/increment", $"increment must be a whole number, got \"{text}\"");
            }
            else if (increment < 0)
            {
                Error(pointer + "/increment", $"increment must not be negative, got {increment}: a negative increment would hand quota back on every call");
            }
            else
            {
                // Intercept reads an increment of 0 as "not set", which means 1.
                state.Increment = increment == 0 ? 1 : increment;
            }
        }

        return state;
    }

    private void CheckDuplicateCounters(InterceptTool tool)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < tool.Rules.Count; i++)
        {
            if (tool.Rules[i].State is not { } state)
            {
                continue;
            }

            if (seen.TryGetValue(state.Counter, out var previous))
            {
                Error(tool.Rules[i].FromRateLimit ? state.Pointer : state.Pointer + "/counter", $"duplicate state counter \"{state.Counter}\" (also used by rules[{previous}])");
                tool.Rules[i].Usable = false;
            }
            else
            {
                seen[state.Counter] = i;
            }
        }
    }

    internal static bool ParseRateLimit(string text, out long count, out string window, out string? problem)
    {
        count = 0;
        window = string.Empty;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            problem = $"rate_limit must be in the format \"N/window\" (e.g. \"5/hour\"), got \"{text}\"";
            return false;
        }

        var countText = text[..slash];
        if (!IsGoInteger(countText) || !long.TryParse(countText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out count) || count <= 0)
        {
            problem = $"rate_limit count must be a positive integer, got \"{countText}\"";
            return false;
        }

        window = text[(slash + 1)..];
        if (Array.IndexOf(Windows, window) < 0)
        {
            problem = $"rate_limit window must be \"minute\", \"hour\", or \"day\", got \"{window}\"";
            return false;
        }

        problem = null;
        return true;
    }

    private static bool IsGoInteger(string text)
    {
        var digits = text.AsSpan().TrimStart("+-");
        return text.Length - digits.Length <= 1 && !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9');
    }
}
