using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PolicyEngine.Testing;

/// <summary>
/// One generated tool call: who calls (<see cref="Identity"/>), which tool, with which arguments, and, in timed
/// sequences, when. Its <see cref="ToString"/> reads as plain words, so that counterexamples are readable.
/// </summary>
public sealed class PolicyCall
{
    /// <summary>Creates a call.</summary>
    /// <param name="identity">The caller.</param>
    /// <param name="tool">The tool name.</param>
    /// <param name="args">The arguments: a JSON object (<c>default</c> means none).</param>
    /// <param name="at">When the call is made, for timed sequences; <see langword="null"/> when time does not matter.</param>
    public PolicyCall(PolicyIdentity identity, string tool, JsonElement args, DateTimeOffset? at = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(tool);
        Identity = identity;
        Tool = tool;
        Args = args.ValueKind == JsonValueKind.Undefined ? JsonText.EmptyObject : args;
        At = at;
    }

    /// <summary>The caller.</summary>
    public PolicyIdentity Identity { get; }

    /// <summary>The tool name.</summary>
    public string Tool { get; }

    /// <summary>The arguments (a JSON object).</summary>
    public JsonElement Args { get; }

    /// <summary>When the call is made; <see langword="null"/> outside timed sequences.</summary>
    public DateTimeOffset? At { get; }

    /// <summary>Returns the same call made at another time.</summary>
    /// <param name="at">The new time.</param>
    /// <returns>The call at <paramref name="at"/>.</returns>
    public PolicyCall WithTime(DateTimeOffset? at) => new(Identity, Tool, Args, at);

    /// <summary>
    /// Describes the call in plain words, for example
    /// <c>"delete_all" called by "u1" (roles: ["user"]) with {"force":true}</c>.
    /// </summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(JsonText.Quote(Tool)).Append(" called by ").Append(DescribeIdentity(Identity));
        text.Append(" with ").Append(JsonText.Compact(Args));
        if (At is { } at)
        {
            text.Append(" at ").Append(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFF'Z'", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>The identity's id and attributes, as in <c>"u1" (roles: ["user"])</c>.</summary>
    internal static string DescribeIdentity(PolicyIdentity identity)
    {
        var text = new StringBuilder(JsonText.Quote(identity.Id));
        var first = true;
        foreach (var property in identity.Attributes.EnumerateObject())
        {
            if (property.NameEquals("id"))
            {
                continue;
            }

            text.Append(first ? " (" : ", ").Append(property.Name).Append(": ").Append(JsonText.Compact(property.Value));
            first = false;
        }

        if (first)
        {
            text.Append(" (no attributes)");
        }
        else
        {
            text.Append(')');
        }

        return text.ToString();
    }
}
