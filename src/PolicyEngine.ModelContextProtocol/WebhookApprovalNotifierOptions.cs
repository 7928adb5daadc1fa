namespace PolicyEngine.ModelContextProtocol;

/// <summary>Options of a <see cref="WebhookApprovalNotifier"/>; copied and validated when it is built.</summary>
public sealed class WebhookApprovalNotifierOptions
{
    /// <summary>Where to POST (http or https). Required.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// The shared secret of the HMAC-SHA256 signature (at least 16 characters). Required. The receiver recomputes
    /// <c>HMAC(secret, timestamp + "." + body)</c> and compares it with the <c>X-PolicyEngine-Signature</c> header.
    /// </summary>
    public string? Secret { get; set; }

    /// <summary>How many times one notification is tried at most (default 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait before the first retry, doubled before each next one (default 1 second).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one POST may take (default 10 seconds).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many notifications may wait to be sent; beyond that new ones are dropped and logged (default 1,000).</summary>
    public int QueueCapacity { get; set; } = 1000;
}
