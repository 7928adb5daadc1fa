using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using Json.Schema;
using PolicyEngine.Matching;

namespace PolicyEngine.Documents.Parsing;

// The parser: comparison and composite predicates and their operands.
internal sealed partial class PolicyParser
{
    private IReadOnlyList<PolicyPredicate>? ReadPredicateList(JsonElement? element, string key)
    {
        if (element is not { } list)
        {
            return null;
        }

        _at.Push(key);
        try
        {
            if (list.ValueKind != JsonValueKind.Array)
            {
                ErrorHere($"{Quote(key)} must be an array of predicates, not {KindName(list.ValueKind)}");
                return null;
            }

            var predicates = new List<PolicyPredicate>(list.GetArrayLength());
            var index = 0;
            foreach (var item in list.EnumerateArray())
            {
                _at.Push(index++);
                if (ReadPredicate(item) is { } predicate)
                {
                    predicates.Add(predicate);
                }

                _at.Pop();
            }

            return predicates;
        }
        finally
        {
            _at.Pop();
        }
    }

    private PolicyPredicate? ReadPredicate(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            ErrorHere($"a predicate must be an object such as {{ \"path\": \"args.x\", \"op\": \"eq\", \"value\": 1 }}, not {KindName(element.ValueKind)}");
            return null;
        }

        var composite = false;
        var comparison = false;
        foreach (var property in element.EnumerateObject())
        {
            composite |= property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not");
            comparison |= property.NameEquals("path") || property.NameEquals("op") || property.NameEquals("value");
        }

        if (composite && !_v2)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                {
                    ErrorAt(property.Name, $"the composite predicate {Quote(property.Name)} needs version \"2\"");
                }
            }

            return null;
        }

        if (composite)
        {
            if (comparison)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                    {
                        ErrorAt(property.Name, $"a predicate is either a comparison (\"path\", \"op\", \"value\") or a composite, not both: move {Quote(property.Name)} to its own predicate or nest the comparison inside it");
                    }
                }

                return null;
            }

            return ReadComposite(element);
        }

        return ReadComparison(element);
    }

    private CompositePredicate? ReadComposite(JsonElement element)
    {
        var values = new JsonElement?[CompositeKeys.Length];
        if (!ReadObject(element, "a composite predicate", CompositeKeys, values))
        {
            return null;
        }

        var fields = new Fields(CompositeKeys, values);

        var onDeny = ReadString(fields["on_deny"], "on_deny", required: false, "a composite predicate", nonEmpty: false);
        var forms = (fields["all"] is null ? 0 : 1) + (fields["any"] is null ? 0 : 1) + (fields["not"] is null ? 0 : 1);
        if (forms > 1)
        {
            // Report at every form after the first, so the pointer names the key to move.
            var seenForm = false;
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals("all") || property.NameEquals("any") || property.NameEquals("not"))
                {
                    if (seenForm)
                    {
                        ErrorAt(property.Name, $"a composite predicate has exactly one of \"all\", \"any\" or \"not\"; move {Quote(property.Name)} into its own predicate and nest it");
                    }

                    seenForm = true;
                }
            }

            return null;
        }

        if (fields["not"] is { } notElement)
        {
            _at.Push("not");
            var operand = ReadPredicate(notElement);
            _at.Pop();
            return operand is null ? null : new CompositePredicate(CompositeKind.Not, [operand], onDeny);
        }

        var kind = fields["all"] is not null ? CompositeKind.All : CompositeKind.Any;
        var key = kind == CompositeKind.All ? "all" : "any";
        var listElement = (fields["all"] ?? fields["any"])!.Value;
        if (listElement.ValueKind == JsonValueKind.Array && listElement.GetArrayLength() == 0)
        {
            ErrorAt(key, $"{Quote(key)} needs at least one predicate");
            return null;
        }

        var operands = ReadPredicateList(listElement, key);
        return operands is null ? null : new CompositePredicate(kind, operands, onDeny);
    }

    private ComparisonPredicate? ReadComparison(JsonElement element)
    {
        var values = new JsonElement?[ComparisonKeys.Length];
        if (!ReadObject(element, "a predicate", ComparisonKeys, values, V2OnlyComparisonKeys))
        {
            return null;
        }

        var fields = new Fields(ComparisonKeys, values);

        var ok = true;
        var path = ReadString(fields["path"], "path", required: true, "the predicate");
        if (path is not null && !ValidPath(path, allowIdentity: _v2, "path"))
        {
            ok = false;
        }

        ok &= path is not null;

        PredicateOperator op = default;
        var opText = ReadString(fields["op"], "op", required: true, "the predicate");
        if (opText is null)
        {
            ok = false;
        }
        else if (!Operators.TryFind(opText, out var entry))
        {
            ErrorAt("op", $"unknown operator {Quote(opText)}; expected one of {OneOf(Operators.All.Where(o => _v2 || !o.V2).Select(o => o.Name).ToArray())}");
            ok = false;
        }
        else if (entry.V2 && !_v2)
        {
            ErrorAt("op", $"the operator {Quote(opText)} needs version \"2\"");
            ok = false;
        }
        else
        {
            op = entry.Operator;
        }

        var onDeny = ReadString(fields["on_deny"], "on_deny", required: false, "the predicate", nonEmpty: false);

        JsonElement value;
        if (fields["value"] is { } given)
        {
            value = given;
            CheckValueTree(value, "value");
        }
        else
        {
            if (opText is not null)
            {
                ErrorHere($"the predicate is missing the required key \"value\" (the operand of {Quote(opText)})");
            }

            return null;
        }

        if (!ok)
        {
            return null;
        }

        var allowUnusualPaths = false;
        if (fields["allow_unusual_paths"] is { } allowUnusual)
        {
            if (allowUnusual.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                ErrorAt("allow_unusual_paths", $"\"allow_unusual_paths\" must be true or false, not {KindName(allowUnusual.ValueKind)}");
                return null;
            }

            if (op != PredicateOperator.PathUnder)
            {
                ErrorAt("allow_unusual_paths", $"\"allow_unusual_paths\" applies only to \"path_under\", not to {Quote(opText!)}; remove it");
                return null;
            }

            allowUnusualPaths = allowUnusual.ValueKind == JsonValueKind.True;
        }

        var regex = CheckOperand(op, opText!, value);
        if (regex is null && Operators.Of(op).Operand == OperandKind.Pattern)
        {
            return null;
        }

        return _errors.Count > 0 ? null : new ComparisonPredicate(path!, op, value, onDeny, regex, allowUnusualPaths);
    }

    /// <summary>Checks the operand's type for the operator; for <c>regex</c>, returns the compiled pattern.</summary>
    private Regex? CheckOperand(PredicateOperator op, string opText, JsonElement value)
    {
        switch (Operators.Of(op).Operand)
        {
            case OperandKind.Array:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be an array of values, not {KindName(value.ValueKind)}");
                }

                break;
            case OperandKind.Number:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a number, not {KindName(value.ValueKind)}");
                }

                break;
            case OperandKind.Boolean:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a boolean (true or false), not {KindName(value.ValueKind)}");
                }

                break;
            case OperandKind.Pattern:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a string pattern, not {KindName(value.ValueKind)}");
                    return null;
                }

                var pattern = value.GetString()!;
                if (ChargePattern(pattern) is { } tooMany)
                {
                    ErrorAt("value", tooMany);
                    return null;
                }

                try
                {
                    return RegexCache.Get(pattern);
                }
                catch (RegexBudgetException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} is too costly to evaluate: {ex.Message}");
                }
                catch (ArgumentException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} does not compile: {ex.Message}");
                }
                catch (NotSupportedException ex)
                {
                    ErrorAt("value", $"the regex {Quote(pattern)} uses a construct the linear-time engine does not support (backreferences, lookarounds, atomic groups): {ex.Message}");
                }

                return null;
            case OperandKind.String:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a string, not {KindName(value.ValueKind)}");
                }

                break;
            case OperandKind.DirectoryPath:
                if (value.ValueKind != JsonValueKind.String)
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be a directory path string, not {KindName(value.ValueKind)}");
                }
                else if (!PathUnder.TryNormalizeRoot(value.GetString()!, out _))
                {
                    ErrorAt("value", $"the operand of {Quote(opText)} must be an absolute directory path (such as \"/workspace\"), not {Quote(value.GetString()!)}");
                }

                break;
        }

        return null;
    }

    private bool ValidPath(string path, bool allowIdentity, string key)
    {
        var valid = PolicyPaths.IsValid(path, allowIdentity);
        if (!valid)
        {
            var roots = allowIdentity ? "\"args.\" or \"identity.\"" : "\"args.\"";
            var hint = !allowIdentity && path.StartsWith("identity.", StringComparison.Ordinal)
                ? "; \"identity.\" paths need version \"2\""
                : string.Empty;
            ErrorAt(key, $"{Quote(key)}: the path {Quote(path)} is not valid; write {roots} followed by dot-separated names, such as \"args.amount\"{hint}");
        }

        return valid;
    }
}
