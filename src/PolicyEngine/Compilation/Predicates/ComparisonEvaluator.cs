using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PolicyEngine.Documents;
using PolicyEngine.Json;
using PolicyEngine.Json.Numbers;
using PolicyEngine.Matching;

namespace PolicyEngine.Compilation.Predicates;

/// <summary>
/// One comparison. Semantics (DESIGN.md §2): an absent path (or a present <c>null</c>) makes every operator false
/// except <c>exists</c>; values compare by JSON type and exact value; strings compare ordinally.
/// </summary>
internal sealed class ComparisonEvaluator : CompiledPredicate
{
    // Strings up to this many UTF-8 bytes are transcoded on the stack for regex, glob and path operators.
    private const int StackChars = 512;

    private readonly CompiledPath _path;
    private readonly PredicateOperator _op;
    private readonly JsonElement _operand;
    private readonly JsonElement[] _list;
    private readonly byte[]?[] _listUtf8 = [];
    private readonly NumberOperand? _number;
    private readonly string? _text;
    private readonly byte[]? _utf8;
    private readonly Regex? _regex;
    private readonly NormalizedPath _root;
    private readonly bool _exists;
    private readonly bool _allowUnusualPaths;
    private readonly string _pathText;
    private readonly string _description;

    public ComparisonEvaluator(ComparisonPredicate predicate)
    {
        _path = new CompiledPath(predicate.Path);
        _pathText = predicate.Path;
        _allowUnusualPaths = predicate.AllowUnusualPaths;
        _op = predicate.Operator;
        _operand = predicate.Value;
        _list = [];
        switch (_op)
        {
            case PredicateOperator.In or PredicateOperator.NotIn:
                _list = [.. _operand.EnumerateArray()];
                _listUtf8 = new byte[]?[_list.Length];
                for (var i = 0; i < _list.Length; i++)
                {
                    // GetString may refuse an escaped lone surrogate; such an element is compared the general way.
                    _listUtf8[i] = _list[i].ValueKind == JsonValueKind.String && TryGetUtf8(_list[i], out var bytes) ? bytes : null;
                }

                break;
            case PredicateOperator.Lt or PredicateOperator.Lte or PredicateOperator.Gt or PredicateOperator.Gte:
                if (!NumberOperand.TryCreate(_operand, out _number))
                {
                    throw new InvalidOperationException($"the operand of {predicate.Path} is not a number");
                }

                break;
            case PredicateOperator.Exists:
                _exists = _operand.ValueKind == JsonValueKind.True;
                break;
            case PredicateOperator.Regex:
                _regex = predicate.CompiledRegex ?? RegexCache.Get(_operand.GetString()!);
                break;
            case PredicateOperator.PathUnder:
                if (!PathUnder.TryNormalizeRoot(_operand.GetString()!, out _root))
                {
                    throw new InvalidOperationException($"the operand of {predicate.Path} is not an absolute path");
                }

                break;
        }

        if (_operand.ValueKind == JsonValueKind.String && TryGetUtf8(_operand, out var operandUtf8))
        {
            _utf8 = operandUtf8;
            _text = _operand.GetString()!;
        }

        _description = $"{predicate.Path} {Operators.Name(_op)} {_operand.GetRawText()}";
        if (_op == PredicateOperator.Contains && _text is not null && _path.IsIdentity && _path.Length == 1)
        {
            IdentitySetName = _path.FirstName;
        }
    }

    /// <summary>For <c>identity.&lt;name&gt; contains "text"</c>: the attribute name, answered from the identity's string sets.</summary>
    public string? IdentitySetName { get; }

    /// <summary>The string operand, if the operand is a string.</summary>
    public string? Text => _text;

    public CompiledPath Path => _path;

    public override bool ReadsIdentityOnly => _path.IsIdentity;

    /// <summary>The exact UTF-8 bytes of a string value, unless it holds a lone surrogate (then no byte form is exact).</summary>
    private static bool TryGetUtf8(JsonElement element, out byte[] utf8)
    {
        try
        {
            utf8 = StrictUtf8.Encoding.GetBytes(element.GetString()!);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or EncoderFallbackException)
        {
            utf8 = [];
            return false;
        }
    }

    public override string Describe() => _description;

    public override string? Undecided(in EvaluationContext context)
    {
        var found = _path.Resolve(context, out var value);
        if (found == PathResult.Ambiguous)
        {
            return $"the argument {_pathText} appears more than once (a duplicated key on its path)";
        }

        if (found == PathResult.Found && _op == PredicateOperator.PathUnder && !_allowUnusualPaths && value.ValueKind == JsonValueKind.String
            && PathUnder.IsUnusual(StringValue.GetChars(value, []), _root))
        {
            return $"the path in {_pathText} is written in a form a tool could read differently (a leading // or \\\\, a backslash, "
                + "percent-encoding, a control or look-alike character, or a segment ending in a dot or space); send a plain absolute path";
        }

        return null;
    }

    public override bool Holds(in EvaluationContext context, ref bool ambiguous)
    {
        if (IdentitySetName is not null && context.Identity.StringSets.TryGetValue(IdentitySetName, out var set))
        {
            return set.Contains(_text!);
        }

        var found = _path.Resolve(context, out var value);
        if (found != PathResult.Found)
        {
            ambiguous |= found == PathResult.Ambiguous;

            // exists:false holds exactly when the path is absent or null.
            return _op == PredicateOperator.Exists && !_exists;
        }

        switch (_op)
        {
            case PredicateOperator.Exists:
                return _exists;
            case PredicateOperator.Eq:
                return ValueEquals(value);
            case PredicateOperator.Neq:
                return !ValueEquals(value);
            case PredicateOperator.In:
                return InList(value);
            case PredicateOperator.NotIn:
                return !InList(value);
            // TryCompareTo gives the sign of (argument - operand); it fails for a non-number argument.
            case PredicateOperator.Lt:
                return _number!.TryCompareTo(value, out var lt) && lt < 0;
            case PredicateOperator.Lte:
                return _number!.TryCompareTo(value, out var lte) && lte <= 0;
            case PredicateOperator.Gt:
                return _number!.TryCompareTo(value, out var gt) && gt > 0;
            case PredicateOperator.Gte:
                return _number!.TryCompareTo(value, out var gte) && gte >= 0;
            case PredicateOperator.Contains:
                return Contains(value);
            case PredicateOperator.StartsWith:
                return value.ValueKind == JsonValueKind.String && (StringValue.TryGetUnescapedUtf8(value, out var head)
                    ? head.StartsWith(_utf8)
                    : StringValue.GetChars(value, stackalloc char[StackChars]).StartsWith(_text, StringComparison.Ordinal));
            case PredicateOperator.EndsWith:
                return value.ValueKind == JsonValueKind.String && (StringValue.TryGetUnescapedUtf8(value, out var tail)
                    ? tail.EndsWith(_utf8)
                    : StringValue.GetChars(value, stackalloc char[StackChars]).EndsWith(_text, StringComparison.Ordinal));
            case PredicateOperator.Regex:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                return _regex!.IsMatch(StringValue.GetChars(value, stackalloc char[StackChars]));
            case PredicateOperator.Glob:
                return value.ValueKind == JsonValueKind.String && Glob.IsMatch(_text!, StringValue.GetChars(value, stackalloc char[StackChars]));
            case PredicateOperator.PathUnder:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return false;
                }

                var path = StringValue.GetChars(value, stackalloc char[StackChars]);
                if (!_allowUnusualPaths && PathUnder.IsUnusual(path, _root))
                {
                    // Lexically fine, but a tool might decode or normalise it into something else: neither answer is safe.
                    ambiguous = true;
                    return false;
                }

                return PathUnder.IsUnder(path, _root);
            default:
                return false;
        }
    }

    /// <summary>Equality with the operand; an unescaped string argument against a string operand is a byte comparison.</summary>
    private bool ValueEquals(JsonElement value)
    {
        if (_utf8 is not null && value.ValueKind == JsonValueKind.String && StringValue.TryGetUnescapedUtf8(value, out var utf8))
        {
            return utf8.SequenceEqual(_utf8);
        }

        return JsonValueComparer.DeepEquals(value, _operand);
    }

    private bool InList(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.String && StringValue.TryGetUnescapedUtf8(value, out var utf8))
        {
            // A string equals only a string element with the same text.
            foreach (var candidate in _listUtf8)
            {
                if (candidate is not null && utf8.SequenceEqual(candidate))
                {
                    return true;
                }
            }

            return false;
        }

        foreach (var candidate in _list)
        {
            if (JsonValueComparer.DeepEquals(value, candidate))
            {
                return true;
            }
        }

        return false;
    }

    private bool Contains(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                if (_utf8 is null)
                {
                    return false;
                }

                return StringValue.TryGetUnescapedUtf8(value, out var utf8)
                    ? utf8.IndexOf(_utf8) >= 0
                    : StringValue.GetChars(value, stackalloc char[StackChars]).IndexOf(_text, StringComparison.Ordinal) >= 0;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (JsonValueComparer.DeepEquals(item, _operand))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }
}
