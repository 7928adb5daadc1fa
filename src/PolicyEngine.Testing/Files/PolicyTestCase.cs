using System.Text.Json;

namespace PolicyEngine.Testing;

/// <summary>One case of a <see cref="PolicyTestFile"/>: a call and the decision it must get.</summary>
public sealed class PolicyTestCase
{
    internal PolicyTestCase(string name, int index, PolicyIdentity identity, string tool, JsonElement args, DateTimeOffset? at, int repeat, DecisionKind expect, string? rule, string? reason)
    {
        Name = name;
        Index = index;
        Identity = identity;
        Tool = tool;
        Args = args;
        At = at;
        Repeat = repeat;
        Expect = expect;
        Rule = rule;
        Reason = reason;
    }

    /// <summary>The case's <c>name</c>, or <c>#N</c> (its position, from 1) when the file gives none.</summary>
    public string Name { get; }

    /// <summary>The case's position in the file, from 0.</summary>
    public int Index { get; }

    /// <summary>The caller (<c>identity</c>: an id, or an object with <c>id</c> and attributes; <c>anonymous</c> when absent).</summary>
    public PolicyIdentity Identity { get; }

    /// <summary>The tool name.</summary>
    public string Tool { get; }

    /// <summary>The arguments (an object; <c>{}</c> when absent).</summary>
    public JsonElement Args { get; }

    /// <summary>The clock for this call (<c>at</c>); <see langword="null"/> keeps the previous case's time.</summary>
    public DateTimeOffset? At { get; }

    /// <summary>How many times the call is made, each getting the expected decision (<c>repeat</c>, default 1).</summary>
    public int Repeat { get; }

    /// <summary>The expected decision (<c>expect</c>).</summary>
    public DecisionKind Expect { get; }

    /// <summary>The expected deciding rule (<c>rule</c>, compared exactly), if any.</summary>
    public string? Rule { get; }

    /// <summary>Text the decision's reason must contain (<c>reason</c>, ordinal), if any.</summary>
    public string? Reason { get; }

    /// <summary>The call in plain words.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => new PolicyCall(Identity, Tool, Args, At).ToString();
}
