using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;

namespace PolicyEngine.Documents.Parsing;

// The parser: limits (windows, scopes, costs).
internal sealed partial class PolicyParser
{
    private IReadOnlyList<LimitRule>? ReadLimits(JsonElement element, bool isAllTools)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            ErrorHere($"\"limits\" must be an array of limits, not {KindName(element.ValueKind)}");
            return null;
        }

        var limits = new List<LimitRule>(element.GetArrayLength());
        var local = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            _at.Push(index++);
            if (ReadLimit(item) is { } limit)
            {
                if (!local.Add(limit.Counter))
                {
                    ErrorAt("counter", $"the counter {Quote(limit.Counter)} appears twice in this list; give each limit its own counter id");
                }
                else
                {
                    CheckSharedCounter(limit, isAllTools);
                }

                limits.Add(limit);
            }

            _at.Pop();
        }

        return limits;
    }

    private sealed record CounterDefinition(string Pointer, LimitRule Limit, bool AllTools);

    /// <summary>
    /// A counter id names one counter. Tools may share a counter, but then they must agree on what it counts;
    /// a counter of <c>all_tools</c> already applies to every call and must not be reserved twice.
    /// </summary>
    private void CheckSharedCounter(LimitRule limit, bool isAllTools)
    {
        var pointer = _at.With("counter");
        if (!_counters.TryGetValue(limit.Counter, out var first))
        {
            _counters[limit.Counter] = new CounterDefinition(pointer, limit, isAllTools);
            return;
        }

        if (first.AllTools || isAllTools)
        {
            Error(pointer, $"the counter {Quote(limit.Counter)} is also used by {(first.AllTools ? "all_tools" : "a tool")} at {first.Pointer}; a counter of all_tools applies to every call already, so give this limit its own counter id");
            return;
        }

        var other = first.Limit;
        if (other.Window != limit.Window || other.IsCalendarWindow != limit.IsCalendarWindow || other.Max != limit.Max
            || other.Scope != limit.Scope || other.Algorithm != limit.Algorithm)
        {
            Error(pointer, $"the counter {Quote(limit.Counter)} is defined differently at {first.Pointer}; limits that share a counter must have the same window, max, scope and algorithm");
        }
    }

    private LimitRule? ReadLimit(JsonElement element)
    {
        var values = new JsonElement?[LimitKeysV2.Length];
        if (!ReadObject(element, "a limit", LimitKeysV2, values, V2OnlyLimitKeys))
        {
            return null;
        }

        var fields = new Fields(LimitKeysV2, values);

        var errorsBefore = _errors.Count;
        var counter = ReadString(fields["counter"], "counter", required: true, "the limit");

        var window = ReadString(fields["window"], "window", required: true, "the limit");
        var windowLength = TimeSpan.Zero;
        var calendar = false;
        if (window is not null)
        {
            if (!Duration.TryParseWindow(window, out windowLength, out calendar) || (!_v2 && !calendar))
            {
                var allowed = _v2
                    ? "\"minute\", \"hour\", \"day\" or a duration such as \"30s\", \"5m\", \"2h\", \"1d\""
                    : "\"minute\", \"hour\" or \"day\" (durations need version \"2\")";
                ErrorAt("window", $"the window {Quote(window)} is not valid; use {allowed}");
            }
        }

        var max = ReadPositiveInteger(fields["max"], "max", required: true, "the limit");

        var scope = ReadString(fields["scope"], "scope", required: false, "the limit") ?? (fields["scope"] is null ? "grant" : null);
        var scopeKind = LimitScopeKind.Grant;
        switch (scope)
        {
            case null:
                break;
            case "grant":
                break;
            case "global" when _v2:
                scopeKind = LimitScopeKind.Global;
                break;
            case "tool" when _v2:
                scopeKind = LimitScopeKind.Tool;
                break;
            default:
                if (_v2 && scope.StartsWith("args.", StringComparison.Ordinal))
                {
                    scopeKind = LimitScopeKind.Argument;
                    ValidPath(scope, allowIdentity: false, "scope");
                }
                else
                {
                    ErrorAt("scope", _v2
                        ? $"the scope {Quote(scope)} is not valid; use \"grant\", \"global\", \"tool\" or \"args.<path>\""
                        : $"the scope {Quote(scope)} is not valid in version \"1\", which has only \"grant\"");
                }

                break;
        }

        LimitAlgorithm? algorithm = null;
        if (fields["algorithm"] is { } algorithmElement)
        {
            if (algorithmElement.ValueKind == JsonValueKind.String && algorithmElement.ValueEquals("fixed"))
            {
                algorithm = LimitAlgorithm.Fixed;
            }
            else if (algorithmElement.ValueKind == JsonValueKind.String && algorithmElement.ValueEquals("sliding"))
            {
                algorithm = LimitAlgorithm.Sliding;
            }
            else
            {
                ErrorAt("algorithm", $"\"algorithm\" must be \"fixed\" or \"sliding\", not {Truncate(algorithmElement.GetRawText())}");
            }
        }

        var cost = ReadPositiveInteger(fields["cost"], "cost", required: false, "the limit");
        var costFrom = ReadString(fields["cost_from"], "cost_from", required: false, "the limit");
        if (costFrom is not null)
        {
            ValidPath(costFrom, allowIdentity: false, "cost_from");
            if (fields["cost"] is not null)
            {
                ErrorAt("cost_from", "\"cost\" and \"cost_from\" cannot both be set; keep \"cost\" for a fixed cost or \"cost_from\" to charge an argument's amount");
            }
        }

        var onDeny = ReadString(fields["on_deny"], "on_deny", required: false, "the limit", nonEmpty: false);

        if (_errors.Count != errorsBefore || counter is null || window is null || max is null || scope is null)
        {
            return null;
        }

        return new LimitRule(counter, window, windowLength, calendar, max.Value, scope, scopeKind, algorithm, cost, costFrom, onDeny);
    }
}
