using System.Text.Json;

namespace PolicyEngine.GuardProxy;

/// <summary>
/// The downstream client's first message (its <c>initialize</c> request), read before the upstream starts so that
/// the proxy offers the upstream only what the client offers: the upstream sees the <c>roots</c> capability only
/// when the client has it, and otherwise uses its own configuration (server-filesystem's directory arguments, say).
/// </summary>
internal sealed class ClientHello
{
    private ClientHello(byte[] consumed, bool offersRoots, bool rootsListChanged)
    {
        Consumed = consumed;
        OffersRoots = offersRoots;
        RootsListChanged = rootsListChanged;
    }

    /// <summary>Every byte read from standard input so far (the first line and anything after it), to be replayed to the server.</summary>
    public byte[] Consumed { get; }

    /// <summary>Whether the client declared the <c>roots</c> capability.</summary>
    public bool OffersRoots { get; }

    /// <summary>Whether the client declared <c>roots.listChanged</c>.</summary>
    public bool RootsListChanged { get; }

    /// <summary>
    /// Reads up to the first newline; <see langword="null"/> when the input ends first (the client went away). A first
    /// line that is not an <c>initialize</c> request offers nothing; the server answers it as it would.
    /// </summary>
    public static async Task<ClientHello?> ReadAsync(Stream input, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int newline;
        while (true)
        {
            var read = await input.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            var start = (int)buffer.Length;
            buffer.Write(chunk, 0, read);
            newline = Array.IndexOf(buffer.GetBuffer(), (byte)'\n', start, read);
            if (newline >= 0)
            {
                break;
            }
        }

        var consumed = buffer.ToArray();
        bool roots = false, listChanged = false;
        try
        {
            using var document = JsonDocument.Parse(consumed.AsMemory(0, newline));
            if (Capabilities(document.RootElement) is { } capabilities
                && capabilities.TryGetProperty("roots", out var rootsCapability) && rootsCapability.ValueKind == JsonValueKind.Object)
            {
                roots = true;
                listChanged = rootsCapability.TryGetProperty("listChanged", out var changed) && changed.ValueKind == JsonValueKind.True;
            }
        }
        catch (JsonException)
        {
            // Not JSON: the server will answer it with a parse error.
        }

        return new ClientHello(consumed, roots, listChanged);
    }

    /// <summary>
    /// The client's capabilities: <c>params.capabilities</c> of <c>initialize</c> (revisions up to 2025-11-25), or
    /// <c>params._meta["io.modelcontextprotocol/clientCapabilities"]</c> of <c>server/discover</c> (2026-07-28, which
    /// has no initialize handshake).
    /// </summary>
    private static JsonElement? Capabilities(JsonElement message)
    {
        if (message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("method", out var method)
            || !message.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        JsonElement capabilities;
        if (method.ValueEquals("initialize"))
        {
            parameters.TryGetProperty("capabilities", out capabilities);
        }
        else if (method.ValueEquals("server/discover") && parameters.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            meta.TryGetProperty("io.modelcontextprotocol/clientCapabilities", out capabilities);
        }
        else
        {
            return null;
        }

        return capabilities.ValueKind == JsonValueKind.Object ? capabilities : null;
    }
}
