using System.Text.Json;

namespace PolicyEngine.Testing;

/// <summary>Helpers for the <c>unless</c> filters of invariants.</summary>
public static class PolicyIdentityExtensions
{
    /// <summary>Whether the identity's <c>roles</c> attribute is an array containing <paramref name="role"/> (ordinal).</summary>
    /// <param name="identity">The identity.</param>
    /// <param name="role">The role.</param>
    /// <returns><see langword="true"/> when <c>identity.roles</c> contains the role.</returns>
    public static bool HasRole(this PolicyIdentity identity, string role) => identity.HasAttributeItem("roles", role);

    /// <summary>Whether the attribute <paramref name="name"/> is the string <paramref name="value"/> or an array containing it.</summary>
    /// <param name="identity">The identity.</param>
    /// <param name="name">The attribute name (as in <c>identity.&lt;name&gt;</c>).</param>
    /// <param name="value">The string to look for.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public static bool HasAttributeItem(this PolicyIdentity identity, string name, string value)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(name);
        if (!identity.Attributes.TryGetProperty(name, out var attribute))
        {
            return false;
        }

        return attribute.ValueKind switch
        {
            JsonValueKind.String => attribute.ValueEquals(value),
            JsonValueKind.Array => attribute.EnumerateArray().Any(item => item.ValueKind == JsonValueKind.String && item.ValueEquals(value)),
            _ => false,
        };
    }
}
