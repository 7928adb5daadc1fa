using System.Text.Json;
using System.Text.Json.Serialization;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>Source-generated serialization for the approval message.</summary>
[JsonSerializable(typeof(IReadOnlyDictionary<string, JsonElement>))]
internal sealed partial class PolicyGuardJsonContext : JsonSerializerContext
{
}
