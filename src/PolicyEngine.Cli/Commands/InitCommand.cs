using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.CommandLine;
using System.CommandLine.Parsing;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using PolicyEngine.Documents.Parsing;

namespace PolicyEngine.Cli;

/// <summary>What <c>policyengine init</c> was asked to do.</summary>
/// <param name="Command">The stdio server's command and arguments (after <c>--</c>), or empty.</param>
/// <param name="Url">A streamable HTTP server's URL, or <see langword="null"/>.</param>
/// <param name="FromTools">A saved tools list to read instead of a live server, or <see langword="null"/>.</param>
/// <param name="Out">Where to write the policy (<see langword="null"/>: standard output).</param>
/// <param name="Format"><c>json</c> (version 2, the default) or <c>intercept</c> (YAML).</param>
/// <param name="SaveTools">Where to save the server's tools (for <c>lint --tools</c>), or <see langword="null"/>.</param>
/// <param name="Header">One HTTP header for <paramref name="Url"/> (<c>Name: value</c>), such as a bearer token.</param>
/// <param name="Timeout">How long to wait for the server.</param>
internal sealed record InitOptions(
    IReadOnlyList<string> Command,
    string? Url = null,
    string? FromTools = null,
    string? Out = null,
    string Format = "json",
    string? SaveTools = null,
    string? Header = null,
    TimeSpan? Timeout = null);

/// <summary>
/// <c>policyengine init [--out FILE] [--format json|intercept] [--save-tools FILE] (-- COMMAND [ARGS...] | --url URL [--header H] | --from-tools FILE)</c>:
/// starts the MCP server (or connects to it), reads every page of <c>tools/list</c>, and writes a starter policy
/// (see <see cref="StarterPolicy"/>) that validates. Exit 0 written, 1 the generated policy did not validate, 2 usage
/// error or the server could not be reached.
/// </summary>
internal sealed class InitCommand : ICliCommand
{
    private const int MaxPages = 1000;

    public Command Create(CliContext cli)
    {
        var output = new Option<string?>("--out") { Description = "Where to write the policy (standard output when omitted)", HelpName = "FILE" };
        var format = new Option<string>("--format") { Description = "json (a version 2 policy, the default) or intercept (Intercept YAML)", HelpName = "json|intercept", DefaultValueFactory = _ => "json" };
        var url = new Option<string?>("--url") { Description = "A streamable HTTP MCP server to read instead of starting one", HelpName = "URL" };
        var header = new Option<string?>("--header") { Description = "One HTTP header for --url, such as \"Authorization: Bearer TOKEN\"", HelpName = "\"Name: value\"" };
        var fromTools = new Option<string?>("--from-tools") { Description = "A saved tools/list result to read instead of a live server", HelpName = "FILE" };
        var saveTools = new Option<string?>("--save-tools") { Description = "Also save the server's tools (for lint --tools)", HelpName = "FILE" };
        var timeout = new Option<int?>("--timeout") { Description = "How many seconds to wait for the server", HelpName = "SECONDS" };
        timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--timeout must be a positive number of seconds");
            }
        });
        var server = new Argument<string[]>("COMMAND")
        {
            Description = "After '--': the stdio MCP server's command and arguments (for example -- npx -y @modelcontextprotocol/server-everything)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("init", "Write a starter policy from a live server's tools/list (read-only allowed, destructive need approval, code-running rate-limited)")
        {
            output,
            format,
            url,
            header,
            fromTools,
            saveTools,
            timeout,
            server,
        };
        cli.SetAction(command, parseResult =>
        {
            // The server's command line is what follows "--", passed on untouched (its own options included).
            var afterSeparator = parseResult.Tokens.SkipWhile(t => t.Type != TokenType.DoubleDash).Skip(1).Select(t => t.Value).ToList();
            var positional = parseResult.GetValue(server) ?? [];
            if (positional.Length > afterSeparator.Count)
            {
                var stray = positional[0];
                throw new UsageException((stray.StartsWith('-')
                    ? $"unknown option \"{stray}\""
                    : $"unexpected argument \"{stray}\" (the server's command follows \"--\")")
                    + $"{Environment.NewLine}Run 'policyengine init --help' for usage.");
            }

            var seconds = parseResult.GetValue(timeout);
            return RunAsync(
                new InitOptions(
                    afterSeparator,
                    parseResult.GetValue(url),
                    parseResult.GetValue(fromTools),
                    parseResult.GetValue(output),
                    parseResult.GetValue(format)!,
                    parseResult.GetValue(saveTools),
                    parseResult.GetValue(header),
                    seconds is { } s ? TimeSpan.FromSeconds(s) : null),
                cli.Stdout,
                cli.Stderr);
        });
        return command;
    }

    /// <summary>Lists the server's tools and writes the starter policy; returns the exit code.</summary>
    public static async Task<int> RunAsync(InitOptions options, TextWriter stdout, TextWriter stderr)
    {
        stderr = TextWriter.Synchronized(stderr);
        try
        {
            var sources = (options.Command.Count > 0 ? 1 : 0) + (options.Url is null ? 0 : 1) + (options.FromTools is null ? 0 : 1);
            if (sources != 1)
            {
                throw new UsageException("give exactly one server: -- COMMAND [ARGS...], --url URL, or --from-tools FILE");
            }

            if (options.Format is not ("json" or "intercept"))
            {
                throw new UsageException($"unknown format \"{options.Format}\"; expected one of json, intercept");
            }

            if (options.Header is not null && options.Url is null)
            {
                throw new UsageException("--header goes with --url");
            }

            var (tools, raw, server) = options.FromTools is { } file
                ? ReadFile(file)
                : await ListAsync(options, stderr).ConfigureAwait(false);

            if (options.SaveTools is { } save)
            {
                Write(save, raw);
            }

            var listable = StarterPolicy.Listable(tools, stderr);
            var policy = options.Format == "json" ? StarterPolicy.ToJson(listable, server) : StarterPolicy.ToIntercept(listable, server);
            var document = options.Format == "json"
                ? PolicyParser.Parse(Encoding.UTF8.GetBytes(policy), out var errors, schemaCheck: true)
                : PolicySource.ReadIntercept(Encoding.UTF8.GetBytes(policy), out errors);
            if (document is null)
            {
                // A bug here, never the server's fault: say so with the problems, and write nothing.
                await stderr.WriteLineAsync("policyengine init: the generated policy does not validate (please report this):").ConfigureAwait(false);
                await JsonLines.WriteErrorsAsync(stderr, errors).ConfigureAwait(false);
                return 1;
            }

            if (options.Out is { } path)
            {
                Write(path, policy);
            }
            else
            {
                await stdout.WriteAsync(policy).ConfigureAwait(false);
            }

            foreach (var plan in listable.Select(StarterPolicy.Classify))
            {
                await stderr.WriteLineAsync($"  {plan.Tool.Name}: {plan.Verdict}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync(string.Create(
                CultureInfo.InvariantCulture,
                $"policyengine init: {listable.Count} tools from {server}{(options.Out is null ? string.Empty : " written to " + options.Out)}; review each entry's description before enforcing it")).ConfigureAwait(false);
            return 0;
        }
        catch (UsageException ex)
        {
            await stderr.WriteLineAsync("policyengine init: " + ex.Message).ConfigureAwait(false);
            return CommandLine.UsageError;
        }
    }

    private static void Write(string path, string text)
    {
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot write \"{path}\": {ex.Message}");
        }
    }

    /// <summary>Every page of the server's <c>tools/list</c>.</summary>
    private static async Task<(IReadOnlyList<ServerTool> Tools, string Raw, string Server)> ListAsync(InitOptions options, TextWriter stderr)
    {
        using var timeout = new CancellationTokenSource(options.Timeout ?? TimeSpan.FromSeconds(60));
        IClientTransport transport;
        if (options.Url is { } url)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                throw new UsageException($"--url must be an http or https URL, not \"{url}\"");
            }

            var transportOptions = new HttpClientTransportOptions { Endpoint = endpoint, TransportMode = HttpTransportMode.StreamableHttp, Name = "server" };
            if (options.Header is { } header)
            {
                var colon = header.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new UsageException("--header must look like \"Name: value\"");
                }

                transportOptions.AdditionalHeaders = new Dictionary<string, string> { [header[..colon].Trim()] = header[(colon + 1)..].Trim() };
            }

            transport = new HttpClientTransport(transportOptions);
        }
        else
        {
            transport = new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = "server",
                Command = options.Command[0],
                Arguments = [.. options.Command.Skip(1)],
                StandardErrorLines = line => stderr.WriteLine("[server] " + line),
            });
        }

        var where = options.Url ?? string.Join(' ', options.Command);
        try
        {
            await using var client = await McpClient.CreateAsync(
                transport,
                new McpClientOptions { ClientInfo = new Implementation { Name = "policyengine-init", Version = typeof(InitCommand).Assembly.GetName().Version?.ToString(3) ?? "0" } },
                cancellationToken: timeout.Token).ConfigureAwait(false);
            var tools = new List<Tool>();
            string? cursor = null;
            for (var page = 0; page < MaxPages; page++)
            {
                var result = await client.ListToolsAsync(new ListToolsRequestParams { Cursor = cursor }, timeout.Token).ConfigureAwait(false);
                tools.AddRange(result.Tools);
                cursor = result.NextCursor;
                if (string.IsNullOrEmpty(cursor))
                {
                    break;
                }
            }

            var info = client.ServerInfo;
            var server = info is null ? where : $"{info.Name} {info.Version}".Trim();
            var raw = new JsonObject { ["tools"] = JsonSerializer.SerializeToNode(tools, McpJsonUtilities.DefaultOptions) }.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
            return (tools.Select(FromSdk).ToList(), raw, server);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new UsageException($"the server ({where}) did not answer tools/list within {(options.Timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds:0} seconds");
        }
        catch (Exception ex) when (ex is McpException or IOException or HttpRequestException or InvalidOperationException or System.ComponentModel.Win32Exception or JsonException)
        {
            throw new UsageException($"cannot list the tools of the server ({where}): {ex.Message}");
        }
    }

    private static ServerTool FromSdk(Tool tool) => new(
        tool.Name,
        tool.Description,
        tool.Annotations is not null,
        tool.Annotations?.ReadOnlyHint,
        tool.Annotations?.DestructiveHint,
        tool.Annotations?.OpenWorldHint);

    /// <summary>A saved tools list: <c>{"tools": [...]}</c> (as <c>tools/list</c> returns it) or a bare array of tools.</summary>
    private static (IReadOnlyList<ServerTool> Tools, string Raw, string Server) ReadFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"cannot read \"{path}\": {PolicySource.Describe(path, ex)}");
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tools", out var list))
            {
                root = list;
            }

            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new UsageException($"\"{path}\" is not a tools list: expected {{\"tools\": [...]}} or an array of tools");
            }

            var tools = new List<ServerTool>();
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    throw new UsageException($"\"{path}\": every tool needs a \"name\"");
                }

                var annotations = item.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object ? a : (JsonElement?)null;
                tools.Add(new ServerTool(
                    name.GetString()!,
                    item.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null,
                    annotations is not null,
                    Hint(annotations, "readOnlyHint"),
                    Hint(annotations, "destructiveHint"),
                    Hint(annotations, "openWorldHint")));
            }

            return (tools, text, Path.GetFileName(path));
        }
        catch (JsonException ex)
        {
            throw new UsageException($"\"{path}\" is not valid JSON: {ex.Message}");
        }
    }

    private static bool? Hint(JsonElement? annotations, string name) =>
        annotations is { } a && a.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.ValueKind == JsonValueKind.True
            : null;
}
