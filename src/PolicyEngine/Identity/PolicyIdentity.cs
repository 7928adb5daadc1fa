using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using PolicyEngine.Json;

namespace PolicyEngine;

/// <summary>
/// Who is calling: an <see cref="Id"/> (the grant or subject that <c>scope: "grant"</c> counters are keyed by) and
/// optional attributes (roles, groups, claims) that predicates read as <c>identity.&lt;name&gt;</c>;
/// <c>identity.id</c> is the id. Build one per caller or session and reuse it: evaluating reads it without allocating.
/// </summary>
public sealed partial class PolicyIdentity
{
    /// <summary>Creates an identity with no attributes other than its id.</summary>
    /// <param name="id">The grant or subject id; may be empty but not <see langword="null"/>.</param>
    public PolicyIdentity(string id)
        : this(id, (IReadOnlyDictionary<string, JsonElement>?)null)
    {
    }

    /// <summary>Creates an identity with attributes.</summary>
    /// <param name="id">The grant or subject id.</param>
    /// <param name="attributes">Attributes readable as <c>identity.&lt;name&gt;</c>; an <c>id</c> attribute is ignored in favour of <paramref name="id"/>.</param>
    public PolicyIdentity(string id, IReadOnlyDictionary<string, JsonElement>? attributes)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        Attributes = JsonObjects.Create(id, attributes);

        // Indexes built once so identity paths cost a hash lookup, and "roles contains admin" a set lookup.
        var table = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var sets = new Dictionary<string, FrozenSet<string>>(StringComparer.Ordinal);
        foreach (var property in Attributes.EnumerateObject())
        {
            var name = StringValue.GetName(property);
            table[name] = property.Value;
            if (property.Value.ValueKind == JsonValueKind.Array && StringSet(property.Value) is { } set)
            {
                sets[name] = set;
            }
        }

        Table = table.ToFrozenDictionary(StringComparer.Ordinal);
        StringSets = sets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The attributes by name (including <c>id</c>).</summary>
    internal FrozenDictionary<string, JsonElement> Table { get; }

    /// <summary>Attributes that are arrays of plain strings, as sets.</summary>
    internal FrozenDictionary<string, FrozenSet<string>> StringSets { get; }

    private static FrozenSet<string>? StringSet(JsonElement array)
    {
        var items = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            // Only unescaped strings: their text is exactly what ordinal comparison of the JSON value sees.
            if (item.ValueKind != JsonValueKind.String || !StringValue.TryGetUnescapedUtf8(item, out var utf8))
            {
                return null;
            }

            items.Add(System.Text.Encoding.UTF8.GetString(utf8));
        }

        return items.ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The grant or subject id.</summary>
    public string Id { get; }

    /// <summary>The identity as the JSON object that <c>identity.</c> paths walk: <c>{ "id": ..., attributes... }</c>.</summary>
    public JsonElement Attributes { get; }

    /// <summary>An identity with roles, readable as <c>identity.roles</c> (an array of strings).</summary>
    /// <param name="id">The grant or subject id.</param>
    /// <param name="roles">The roles.</param>
    /// <returns>The identity.</returns>
    public static PolicyIdentity WithRoles(string id, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        return new PolicyIdentity(id, new Dictionary<string, JsonElement> { ["roles"] = JsonSerializer.SerializeToElement(roles) });
    }

    /// <summary>
    /// Maps a <see cref="ClaimsPrincipal"/>: the id is the NameIdentifier (or <c>sub</c>) claim, else the principal's
    /// name; role claims become <c>identity.roles</c>; every other claim becomes <c>identity.&lt;short claim type&gt;</c>
    /// (a string, or an array when the claim repeats).
    /// </summary>
    /// <param name="principal">The authenticated caller.</param>
    /// <param name="anonymousId">The id used when the principal has no identifying claim.</param>
    /// <returns>The identity.</returns>
    public static PolicyIdentity FromClaimsPrincipal(ClaimsPrincipal principal, string anonymousId = "anonymous")
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(anonymousId);
        var id = principal.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? principal.FindFirst("sub")?.Value
            ?? principal.Identity?.Name
            ?? anonymousId;

        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var claim in principal.Claims)
        {
            var name = ShortName(claim.Type);
            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }

            list.Add(claim.Value);
        }

        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, list) in values)
        {
            attributes[name] = name == "roles" || list.Count > 1
                ? JsonSerializer.SerializeToElement(list)
                : JsonSerializer.SerializeToElement(list[0]);
        }

        return new PolicyIdentity(id, attributes);
    }

    private static string ShortName(string claimType)
    {
        if (claimType is ClaimTypes.Role or "role" or "roles")
        {
            return "roles";
        }

        if (claimType is "groups" or "group" or ClaimTypes.GroupSid)
        {
            return "groups";
        }

        var slash = claimType.LastIndexOf('/');
        return slash >= 0 && slash < claimType.Length - 1 ? claimType[(slash + 1)..] : claimType;
    }

    /// <summary>The id.</summary>
    /// <returns>The id.</returns>
    public override string ToString() => Id;
}
