using System.Text.Json;

namespace PolicyEngine.Compilation.Predicates;

/// <summary>The roots that predicate paths walk for one call: the arguments and the caller's identity.</summary>
internal readonly struct EvaluationContext
{
    public EvaluationContext(JsonElement args, IReadOnlyDictionary<string, JsonElement>? argsDictionary, PolicyIdentity identity)
    {
        Args = args;
        ArgsDictionary = argsDictionary;
        Identity = identity;
    }

    /// <summary>The arguments object, when the call's arguments came as one <see cref="JsonElement"/>.</summary>
    public JsonElement Args { get; }

    /// <summary>The arguments, when they came as the MCP SDK's dictionary (then <see cref="Args"/> is unused).</summary>
    public IReadOnlyDictionary<string, JsonElement>? ArgsDictionary { get; }

    public PolicyIdentity Identity { get; }
}
