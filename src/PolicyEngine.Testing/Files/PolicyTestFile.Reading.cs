using System.Globalization;
using System.Text.Json;
using PolicyEngine.Decisions;

namespace PolicyEngine.Testing;

// A policy test file, read: the policy (inline or a path), each case with its identity, call, time and expectation.
public sealed partial class PolicyTestFile
{
    private static PolicyDocument? ReadPolicy(JsonElement root, string? baseDirectory, List<PolicyError> errors)
    {
        if (!root.TryGetProperty("policy", out var policy))
        {
            errors.Add(new PolicyError(string.Empty, "\"policy\" is required: a path to the policy file (relative to this file) or the policy itself"));
            return null;
        }

        IReadOnlyList<PolicyError> problems;
        PolicyDocument? document;
        switch (policy.ValueKind)
        {
            case JsonValueKind.String:
                var file = System.IO.Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), policy.GetString()!);
                byte[] bytes;
                try
                {
                    bytes = File.ReadAllBytes(file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    errors.Add(new PolicyError("/policy", $"cannot read the policy {JsonText.Quote(file)}: {ex.Message}"));
                    return null;
                }

                PolicyDocument.TryParse(bytes, out document, out problems);
                break;
            case JsonValueKind.Object:
                PolicyDocument.TryParse(policy.GetRawText(), out document, out problems);
                break;
            default:
                errors.Add(new PolicyError("/policy", "\"policy\" must be a path (string) or a policy document (object)"));
                return null;
        }

        foreach (var problem in problems)
        {
            errors.Add(new PolicyError("/policy" + (policy.ValueKind == JsonValueKind.Object ? problem.Pointer : string.Empty), (policy.ValueKind == JsonValueKind.String ? $"the policy is not valid at {(problem.Pointer.Length == 0 ? "(root)" : problem.Pointer)}: " : string.Empty) + problem.Message));
        }

        return document;
    }

    private static PolicyTestCase? ReadCase(JsonElement item, int index, string pointer, List<PolicyError> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new PolicyError(pointer, "a case is an object with \"tool\" and \"expect\""));
            return null;
        }

        var before = errors.Count;
        UnknownKeys(item, pointer, CaseKeys, errors);
        var name = $"#{index + 1}";
        if (item.TryGetProperty("name", out var nameElement))
        {
            if (nameElement.ValueKind == JsonValueKind.String && nameElement.GetString()!.Length > 0)
            {
                name = nameElement.GetString()!;
            }
            else
            {
                errors.Add(new PolicyError(pointer + "/name", "\"name\" must be a non-empty string"));
            }
        }

        var tool = string.Empty;
        if (!item.TryGetProperty("tool", out var toolElement) || toolElement.ValueKind != JsonValueKind.String)
        {
            errors.Add(new PolicyError(toolElement.ValueKind == JsonValueKind.Undefined ? pointer : pointer + "/tool", "\"tool\" is required: the tool name (a string)"));
        }
        else
        {
            tool = toolElement.GetString()!;
        }

        var identity = ReadIdentity(item, pointer, errors);
        var args = JsonText.EmptyObject;
        if (item.TryGetProperty("args", out var argsElement))
        {
            if (argsElement.ValueKind == JsonValueKind.Object)
            {
                args = argsElement;
            }
            else
            {
                errors.Add(new PolicyError(pointer + "/args", "\"args\" must be an object"));
            }
        }

        DateTimeOffset? at = null;
        if (item.TryGetProperty("at", out var atElement))
        {
            if (atElement.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(atElement.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                at = parsed;
            }
            else
            {
                errors.Add(new PolicyError(pointer + "/at", "\"at\" must be an ISO 8601 time such as \"2026-01-01T00:00:00Z\""));
            }
        }

        var repeat = 1;
        if (item.TryGetProperty("repeat", out var repeatElement)
            && !(repeatElement.ValueKind == JsonValueKind.Number && repeatElement.TryGetInt32(out repeat) && repeat is >= 1 and <= 100_000))
        {
            errors.Add(new PolicyError(pointer + "/repeat", "\"repeat\" must be an integer from 1 to 100000"));
        }

        var expect = DecisionKind.Allow;
        if (!item.TryGetProperty("expect", out var expectElement))
        {
            errors.Add(new PolicyError(pointer, "\"expect\" is required: \"allow\", \"deny\", \"rate_limited\" or \"needs_approval\""));
        }
        else if (!TryKind(expectElement, out expect))
        {
            errors.Add(new PolicyError(pointer + "/expect", "\"expect\" must be \"allow\", \"deny\", \"rate_limited\" or \"needs_approval\""));
        }

        var rule = OptionalString(item, "rule", pointer, errors);
        var reason = OptionalString(item, "reason", pointer, errors);
        return errors.Count > before ? null : new PolicyTestCase(name, index, identity, tool, args, at, repeat, expect, rule, reason);
    }

    private static PolicyIdentity ReadIdentity(JsonElement item, string pointer, List<PolicyError> errors)
    {
        if (!item.TryGetProperty("identity", out var element))
        {
            return new PolicyIdentity("anonymous");
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return new PolicyIdentity(element.GetString()!);
        }

        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            var attributes = element.EnumerateObject().Where(p => !p.NameEquals("id")).ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
            return new PolicyIdentity(id.GetString()!, attributes);
        }

        errors.Add(new PolicyError(pointer + "/identity", "\"identity\" must be an id (string) or an object with a string \"id\" and attributes"));
        return new PolicyIdentity("anonymous");
    }

    private static string? OptionalString(JsonElement item, string key, string pointer, List<PolicyError> errors)
    {
        if (!item.TryGetProperty(key, out var element))
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return element.GetString();
        }

        errors.Add(new PolicyError(pointer + "/" + key, $"\"{key}\" must be a string"));
        return null;
    }

    private static bool TryKind(JsonElement element, out DecisionKind kind)
    {
        kind = DecisionKind.Allow;
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        return DecisionKindNames.TryParse(element.GetString(), out kind);
    }

    private static void UnknownKeys(JsonElement obj, string pointer, string[] known, List<PolicyError> errors)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (Array.IndexOf(known, property.Name) < 0)
            {
                errors.Add(new PolicyError(pointer + "/" + JsonText.PointerSegment(property.Name), $"unknown key {JsonText.Quote(property.Name)}; expected one of {string.Join(", ", known)}"));
            }
        }
    }
}
