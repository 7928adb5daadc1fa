using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>Checks the raw shape of a <c>tools/call</c> request before the SDK turns it into typed parameters.</summary>
internal static class ToolCallShape
{
    private const string NotText =
        "must be valid text: a string or a name in it holds a lone surrogate (an unpaired \\ud800-\\udfff escape)";

    /// <summary>Throws an invalid-params protocol error for a <c>tools/call</c> whose params are not usable.</summary>
    public static void ThrowIfMalformed(JsonRpcMessage? message)
    {
        if (message is not JsonRpcRequest { Method: RequestMethods.ToolsCall } request)
        {
            return;
        }

        if (Problem(request.Params) is { } problem)
        {
            throw new McpProtocolException($"tools/call denied: {problem}", McpErrorCode.InvalidParams);
        }
    }

    private static string? Problem(JsonNode? parameters)
    {
        if (parameters is not JsonObject body)
        {
            return "params must be an object with a tool name";
        }

        // Reading the members decodes their names and indexes them: a repeated name (two "name"s or two "arguments",
        // one of which a reader might take and another reader the other) or an undecodable one throws here. Left alone,
        // the exception would escape this filter and the caller would get an internal error (-32603) with no reason.
        try
        {
            _ = body.Count;
        }
        catch (ArgumentException)
        {
            return "params must not repeat a member (a key such as name or arguments appears twice)";
        }
        catch (InvalidOperationException)
        {
            return "params " + NotText;
        }

        if (!body.TryGetPropertyValue("name", out var name) || name is null)
        {
            return "params.name (the tool to call) is missing";
        }

        if (name.GetValueKind() != JsonValueKind.String)
        {
            return "params.name must be a non-empty string";
        }

        string text;
        try
        {
            text = name.GetValue<string>();
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json cannot read an escaped lone surrogate as a .NET string.
            return "params.name " + NotText;
        }

        if (text.Length == 0)
        {
            return "params.name must be a non-empty string";
        }

        if (body.TryGetPropertyValue("arguments", out var arguments) && arguments is not null && arguments.GetValueKind() != JsonValueKind.Object)
        {
            return "params.arguments must be an object of named arguments";
        }

        // The SDK reads params by writing them out again (JsonSerializer.Deserialize(JsonNode)), which throws
        // InvalidOperationException on an escaped lone surrogate anywhere in them; that surfaces as an internal error
        // (-32603, "An error occurred.") and a warning in the host's log. Say what is wrong instead. Such a call could
        // never reach the policy nor the tool either way: the SDK cannot represent it.
        if (!IsText(body))
        {
            return (arguments is not null && !IsText(arguments) ? "params.arguments " : "params ") + NotText;
        }

        return null;
    }

    /// <summary>Whether every string and name in <paramref name="node"/> can be read as .NET text.</summary>
    private static bool IsText(JsonNode node)
    {
        var sink = new Discard();
        try
        {
            using var writer = new Utf8JsonWriter(sink, new JsonWriterOptions { SkipValidation = true });
            node.WriteTo(writer);
            writer.Flush();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            // A string that was materialized from such an escape and is written back.
            return false;
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>A buffer writer that forgets what is written: only whether writing succeeds matters.</summary>
    private sealed class Discard : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(4096);

        public void Advance(int count)
        {
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint);

        public void Dispose()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
        }

        private byte[] Ensure(int sizeHint)
        {
            if (sizeHint > _buffer.Length)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(sizeHint);
            }

            return _buffer;
        }
    }
}
