using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// A JSON-RPC client that sees every byte of the answer: it speaks the 2025-11-25 revision (initialize handshake)
/// over newline-delimited JSON (stdio, pipes) or streamable HTTP, and returns each response message whole, so that
/// tests can compare two answers exactly rather than through the SDK client's interpretation of them.
/// </summary>
internal abstract class RawMcp : IAsyncDisposable
{
    public const string ProtocolVersion = "2025-11-25";

    private int _nextId;

    /// <summary>Sends a request and returns its whole response message (<c>result</c> or <c>error</c>), with its id.</summary>
    public async Task<JsonObject> RequestAsync(string method, JsonNode? parameters = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method };
        if (parameters is not null)
        {
            request["params"] = parameters;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Samples.Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        return await ExchangeAsync(request, id, timeout.Token);
    }

    public Task<JsonObject> CallToolAsync(string tool, JsonObject? arguments = null) =>
        RequestAsync(RequestMethods.ToolsCall, new JsonObject { ["name"] = tool, ["arguments"] = arguments ?? new JsonObject() });

    /// <summary>Every tool name <c>tools/list</c> returns, following <c>nextCursor</c> to the end.</summary>
    public async Task<List<string>> ListToolNamesAsync()
    {
        var names = new List<string>();
        string? cursor = null;
        do
        {
            var response = await RequestAsync(RequestMethods.ToolsList, cursor is null ? new JsonObject() : new JsonObject { ["cursor"] = cursor });
            var result = response["result"] ?? throw new InvalidOperationException("tools/list failed: " + response.ToJsonString());
            names.AddRange(result["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()));
            cursor = result["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return names;
    }

    /// <summary>Initializes the session (the 2025-11-25 handshake).</summary>
    protected async Task InitializeAsync()
    {
        var response = await RequestAsync(RequestMethods.Initialize, new JsonObject
        {
            ["protocolVersion"] = ProtocolVersion,
            ["capabilities"] = new JsonObject(),
            ["clientInfo"] = new JsonObject { ["name"] = "raw", ["version"] = "1" },
        });
        Assert.True(response["result"] is not null, "initialize failed: " + response.ToJsonString());
        await NotifyAsync(NotificationMethods.InitializedNotification);
    }

    protected abstract Task<JsonObject> ExchangeAsync(JsonObject request, int id, CancellationToken cancellationToken);

    protected abstract Task NotifyAsync(string method);

    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// <paramref name="message"/> without its id, as JSON, with every occurrence of <paramref name="tool"/> replaced
    /// by a placeholder: two answers that differ only in the name they were asked about become equal strings.
    /// </summary>
    public static string Normalize(JsonObject message, string tool)
    {
        var copy = message.DeepClone().AsObject();
        copy.Remove("id");
        var text = copy.ToJsonString();
        Assert.DoesNotContain("<tool>", text);
        return text.Replace(tool, "<tool>", StringComparison.Ordinal);
    }

    /// <summary>Newline-delimited JSON-RPC over a pair of streams (a process's stdio, or in-process pipes).</summary>
    public static async Task<RawMcp> OverStreamsAsync(Stream toServer, Stream fromServer, IAsyncDisposable? owner = null)
    {
        var session = new Lines(toServer, fromServer, owner);
        await session.InitializeAsync();
        return session;
    }

    /// <summary>Starts <c>dotnet DLL ARGS</c> (a stdio sample) and speaks raw JSON-RPC on its stdio; stderr goes to <paramref name="stderr"/>.</summary>
    public static async Task<RawMcp> StartStdioAsync(string sample, IEnumerable<string> arguments, System.Collections.Concurrent.ConcurrentQueue<string> stderr)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Samples.Dll(sample));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = System.Diagnostics.Process.Start(start)!;
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) stderr.Enqueue(e.Data); };
        process.BeginErrorReadLine();
        var owner = new ProcessOwner(process);
        try
        {
            return await OverStreamsAsync(process.StandardInput.BaseStream, process.StandardOutput.BaseStream, owner);
        }
        catch
        {
            await owner.DisposeAsync();
            throw;
        }
    }

    private sealed class ProcessOwner(System.Diagnostics.Process process) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
        }
    }

    /// <summary>Streamable HTTP with a bearer token.</summary>
    public static async Task<RawMcp> OverHttpAsync(Uri endpoint, string token)
    {
        var session = new Http(endpoint, token);
        await session.InitializeAsync();
        return session;
    }

    private sealed class Lines(Stream toServer, Stream fromServer, IAsyncDisposable? owner) : RawMcp
    {
        private readonly StreamWriter _writer = new(toServer, new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
        private readonly StreamReader _reader = new(fromServer, Encoding.UTF8);

        protected override async Task<JsonObject> ExchangeAsync(JsonObject request, int id, CancellationToken cancellationToken)
        {
            await WriteAsync(request, cancellationToken);
            while (true)
            {
                var line = await _reader.ReadLineAsync(cancellationToken) ?? throw new InvalidOperationException("the server closed its output");
                if (line.Length == 0 || JsonNode.Parse(line) is not JsonObject message)
                {
                    continue;
                }

                // Requests and notifications from the server (logging, progress) are skipped; the server sends none
                // that needs an answer to a client that declared no capabilities.
                if (message["method"] is null && message["id"] is JsonValue value && value.TryGetValue<int>(out var got) && got == id)
                {
                    return message;
                }
            }
        }

        protected override Task NotifyAsync(string method) =>
            WriteAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method }, Samples.Ct);

        private async Task WriteAsync(JsonObject message, CancellationToken cancellationToken)
        {
            await _writer.WriteLineAsync(message.ToJsonString().AsMemory(), cancellationToken);
            await _writer.FlushAsync(cancellationToken);
        }

        public override async ValueTask DisposeAsync()
        {
            if (owner is not null)
            {
                await owner.DisposeAsync();
            }
        }
    }

    private sealed class Http(Uri endpoint, string token) : RawMcp
    {
        private readonly HttpClient _http = new();
        private string? _session;

        protected override async Task<JsonObject> ExchangeAsync(JsonObject request, int id, CancellationToken cancellationToken)
        {
            using var response = await PostAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode}: {body}");
            if (response.Headers.TryGetValues("Mcp-Session-Id", out var sessions))
            {
                _session ??= sessions.First();
            }

            var messages = response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                ? body.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l["data:".Length..].Trim()).Where(l => l.Length > 0)
                : [body];
            foreach (var text in messages)
            {
                if (JsonNode.Parse(text) is JsonObject message && message["method"] is null && message["id"] is JsonValue value && value.TryGetValue<int>(out var got) && got == id)
                {
                    // The status and content type are part of the answer: fold them in so a comparison covers them.
                    message["_http"] = string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType}");
                    return message;
                }
            }

            throw new InvalidOperationException($"no response to request {id} in: {body}");
        }

        protected override async Task NotifyAsync(string method)
        {
            using var response = await PostAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method }, Samples.Ct);
            Assert.True(response.IsSuccessStatusCode, $"HTTP {(int)response.StatusCode} for {method}");
        }

        private Task<HttpResponseMessage> PostAsync(JsonObject message, CancellationToken cancellationToken)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, endpoint)
            {
                Content = new StringContent(message.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Accept.ParseAdd("application/json");
            request.Headers.Accept.ParseAdd("text/event-stream");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (_session is not null)
            {
                request.Headers.Add("Mcp-Session-Id", _session);
                request.Headers.Add("MCP-Protocol-Version", ProtocolVersion);
            }

            return _http.SendAsync(request, cancellationToken);
        }

        public override ValueTask DisposeAsync()
        {
            _http.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>What the SDK client (on its default, newest revision) makes of a <c>tools/call</c> answer.</summary>
internal static class SdkAnswer
{
    /// <summary>The result as JSON, or the protocol error's code and message, with <paramref name="tool"/> replaced.</summary>
    public static async Task<string> CallAsync(McpClient client, string tool)
    {
        string text;
        try
        {
            var result = await client.CallToolAsync(tool, new Dictionary<string, object?>(), cancellationToken: Samples.Ct);
            text = "result " + System.Text.Json.JsonSerializer.Serialize(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult)));
        }
        catch (McpProtocolException ex)
        {
            text = string.Create(CultureInfo.InvariantCulture, $"error {(int)ex.ErrorCode} {ex.Message}");
        }

        return text.Replace(tool, "<tool>", StringComparison.Ordinal);
    }
}
