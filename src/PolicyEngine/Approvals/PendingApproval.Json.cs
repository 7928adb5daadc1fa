using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PolicyEngine;

// The one JSON form of a request: what stores keep, the CLI prints and the webhook posts.
public sealed partial class PendingApproval
{
    /// <summary>The request as one line of JSON (snake_case keys; times as ISO 8601 UTC, ttl in milliseconds).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes the request as a JSON object.</summary>
    /// <param name="writer">The writer.</param>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteString("id", Id);
        writer.WriteString("fingerprint", Fingerprint);
        writer.WriteString("tool", Tool);
        writer.WriteString("identity", IdentityId);
        writer.WriteString("reason", Reason);
        writer.WriteString("rule", Rule);
        writer.WriteString("policy_version", PolicyVersion);
        writer.WriteString("status", StatusName(Status));
        writer.WriteString("created_at", Time(CreatedAt));
        writer.WriteString("expires_at", Time(ExpiresAt));
        writer.WriteNumber("ttl_ms", (long)TimeToLive.TotalMilliseconds);
        writer.WriteNumber("min_approvers", MinApprovers);
        writer.WriteString("arguments_sha256", ArgumentsSha256);
        writer.WriteStartArray("argument_names");
        foreach (var name in ArgumentNames)
        {
            writer.WriteStringValue(name);
        }

        writer.WriteEndArray();
        writer.WriteStartObject("preview");
        foreach (var (path, json) in Preview)
        {
            writer.WriteString(path, json);
        }

        writer.WriteEndObject();
        writer.WriteStartArray("votes");
        foreach (var vote in Votes)
        {
            writer.WriteStartObject();
            writer.WriteString("approver", vote.ApproverId);
            writer.WriteBoolean("approve", vote.Approve);
            if (vote.Comment is not null)
            {
                writer.WriteString("comment", vote.Comment);
            }

            writer.WriteString("at", Time(vote.At));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>Reads a request written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The request.</returns>
    /// <exception cref="FormatException">The text is not a request.</exception>
    public static PendingApproval FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var names = new List<string>();
            foreach (var name in root.GetProperty("argument_names").EnumerateArray())
            {
                names.Add(name.GetString()!);
            }

            var preview = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in root.GetProperty("preview").EnumerateObject())
            {
                preview[property.Name] = property.Value.GetString()!;
            }

            var votes = new List<ApprovalVote>();
            foreach (var vote in root.GetProperty("votes").EnumerateArray())
            {
                votes.Add(new ApprovalVote(
                    vote.GetProperty("approver").GetString()!,
                    vote.GetProperty("approve").GetBoolean(),
                    vote.TryGetProperty("comment", out var comment) ? comment.GetString() : null,
                    ParseTime(vote.GetProperty("at"))));
            }

            return new PendingApproval(
                root.GetProperty("id").GetString()!,
                root.GetProperty("fingerprint").GetString()!,
                root.GetProperty("tool").GetString()!,
                root.GetProperty("identity").GetString()!,
                root.GetProperty("reason").GetString()!,
                root.GetProperty("rule").GetString()!,
                root.GetProperty("policy_version").GetString()!,
                ParseTime(root.GetProperty("created_at")),
                ParseTime(root.GetProperty("expires_at")),
                TimeSpan.FromMilliseconds(root.GetProperty("ttl_ms").GetInt64()),
                root.GetProperty("min_approvers").GetInt32(),
                root.GetProperty("arguments_sha256").GetString()!,
                names,
                preview,
                ParseStatus(root.GetProperty("status").GetString()),
                votes);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new FormatException($"not a stored approval request: {ex.Message}", ex);
        }
    }

    /// <summary>The snake_case name of a status (<c>pending</c>, <c>approved</c>, <c>denied</c>, <c>expired</c>, <c>consumed</c>).</summary>
    /// <param name="status">The status.</param>
    /// <returns>Its name.</returns>
    public static string StatusName(ApprovalStatus status) => status switch
    {
        ApprovalStatus.Pending => "pending",
        ApprovalStatus.Approved => "approved",
        ApprovalStatus.Denied => "denied",
        ApprovalStatus.Expired => "expired",
        ApprovalStatus.Consumed => "consumed",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "unknown approval status"),
    };

    private static ApprovalStatus ParseStatus(string? name) => name switch
    {
        "pending" => ApprovalStatus.Pending,
        "approved" => ApprovalStatus.Approved,
        "denied" => ApprovalStatus.Denied,
        "expired" => ApprovalStatus.Expired,
        "consumed" => ApprovalStatus.Consumed,
        _ => throw new FormatException($"unknown status \"{name}\""),
    };

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(JsonElement element) =>
        DateTimeOffset.Parse(element.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
