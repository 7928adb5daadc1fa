using System.Text;
using System.Text.Json;
using PolicyEngine.Compilation.Predicates;
using PolicyEngine.Documents;
using PolicyEngine.Json;

namespace PolicyEngine;

// The linter, values: what a comparison says about the values it admits, decided by the evaluator's own code.
public static partial class PolicyLinter
{
    /// <summary>The finite set of values that can satisfy an <c>eq</c> or <c>in</c>, or <see langword="null"/>.</summary>
    private static List<JsonElement>? Allowed(ComparisonPredicate p) => p.Operator switch
    {
        PredicateOperator.Eq => [p.Value],
        PredicateOperator.In => [.. p.Value.EnumerateArray()],
        _ => null,
    };

    private static bool IsAbsentCheck(ComparisonPredicate p) => p.Operator == PredicateOperator.Exists && p.Value.ValueKind == JsonValueKind.False;

    private static bool IsNumeric(ComparisonPredicate p) => p.Operator is PredicateOperator.Lt or PredicateOperator.Lte or PredicateOperator.Gt or PredicateOperator.Gte;

    private static bool IsLower(ComparisonPredicate p) => p.Operator is PredicateOperator.Gt or PredicateOperator.Gte;

    private static bool IsStringOp(ComparisonPredicate p) =>
        p.Operator is PredicateOperator.Regex or PredicateOperator.StartsWith or PredicateOperator.EndsWith or PredicateOperator.Glob or PredicateOperator.PathUnder;

    private static byte[] Raw(JsonElement number) => Encoding.UTF8.GetBytes(number.GetRawText());

    private static string Describe(ComparisonPredicate p) => $"{p.Path} {Operators.Name(p.Operator)} {p.Value.GetRawText()}";

    /// <summary>
    /// Whether <paramref name="p"/> holds when its path holds <paramref name="value"/>, decided by the evaluator itself;
    /// <see langword="null"/> when it cannot say.
    /// </summary>
    private static bool? Holds(ComparisonPredicate p, JsonElement value)
    {
        try
        {
            var segments = p.Path.Split('.');
            PolicyIdentity identity;
            var args = JsonObjects.Empty;
            if (segments[0] == "identity")
            {
                if (segments.Length == 2 && segments[1] == "id")
                {
                    if (value.ValueKind != JsonValueKind.String)
                    {
                        return false;
                    }

                    identity = new PolicyIdentity(value.GetString()!);
                }
                else
                {
                    var nested = Nest(segments.AsSpan(2), value);
                    identity = new PolicyIdentity("lint", new Dictionary<string, JsonElement> { [segments[1]] = nested });
                }
            }
            else
            {
                identity = new PolicyIdentity("lint");
                args = Nest(segments.AsSpan(1), value);
            }

            var evaluator = new ComparisonEvaluator(p);
            var context = new EvaluationContext(args, null, identity);
            var ambiguous = false;
            var holds = evaluator.Holds(context, ref ambiguous);
            return ambiguous || evaluator.Undecided(context) is not null ? null : holds;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return null;
        }
    }

    /// <summary><c>{"a": {"b": value}}</c> for the segments <c>a</c>, <c>b</c> (the value itself when there are none).</summary>
    private static JsonElement Nest(ReadOnlySpan<string> segments, JsonElement value)
    {
        var text = value.GetRawText();
        for (var i = segments.Length - 1; i >= 0; i--)
        {
            text = "{" + JsonSerializer.Serialize(segments[i]) + ":" + text + "}";
        }

        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
