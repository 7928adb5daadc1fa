using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// Hostile <c>tools/call</c> requests, written as raw JSON-RPC text, against an MCP server in this process guarded by
/// the adapter. For every request: the server answers within <see cref="LineClient.Timeout"/> with a well-formed
/// JSON-RPC response; a tool runs exactly when <see cref="Reference"/> (a plain re-statement of <see cref="PolicyJson"/>)
/// allows the call, and then sees the arguments the policy checked; the host's <c>DecisionMade</c> event fires once for
/// every call that reached the policy and never for one that did not; and an ordinary call right after still works.
/// </summary>
public sealed class ArgumentFuzzTests(ArgumentFuzzTests.ServerFixture fixture) : IClassFixture<ArgumentFuzzTests.ServerFixture>
{
    /// <summary>
    /// <c>transfer</c> is guarded by most operators; <c>echo</c> is allowed as is (the liveness probe); <c>admin_reset</c> is hidden.
    /// The approval can never be given: the raw client declares no elicitation capability, so such a call is refused.
    /// </summary>
    internal const string PolicyJson = """
        {
          "version": "2",
          "default": "deny",
          "hide": ["admin_*"],
          "tools": {
            "echo": {},
            "transfer": {
              "args_schema": { "type": "object", "properties": { "account": { "type": "string", "pattern": "^[a-z]{1,12}$" } } },
              "require": [
                { "path": "args.amount", "op": "gte", "value": 0, "on_deny": "amount must be a non-negative number" },
                { "path": "args.account", "op": "regex", "value": "^[a-z]+$" },
                { "path": "args.file", "op": "path_under", "value": "/srv/data" },
                { "path": "args.mode", "op": "in", "value": ["read", "write"] }
              ],
              "deny_if": [
                { "path": "args.amount", "op": "gt", "value": 1000 },
                { "path": "args.note", "op": "contains", "value": "DROP" },
                { "path": "args.opts.force", "op": "eq", "value": true }
              ],
              "approval": { "when": [ { "path": "args.amount", "op": "gt", "value": 500 } ], "reason": "a large transfer" },
              "limits": [ { "counter": "per_account", "window": "minute", "max": 1000000, "scope": "args.account" } ]
            }
          }
        }
        """;

    /// <summary><see cref="PolicyEngineMcpOptions.MaxArgumentsBytes"/>'s default, the cap the guard applies here.</summary>
    private const int Cap = 1024 * 1024;

    /// <summary>The SDK (2.4.0) reads a JSON-RPC message with System.Text.Json's default depth limit.</summary>
    private const int SdkMaxDepth = 64;

    /// <summary>The arguments of an allowed transfer, to which the cases add or change one thing.</summary>
    private const string Good = "\"account\":\"abc\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"";

    /// <summary>One guarded server for the whole class (its tests run one after another): every case also checks it still works.</summary>
    public sealed class ServerFixture : IAsyncLifetime
    {
        private FuzzServer? _server;

        internal FuzzServer Server => _server ?? throw new InvalidOperationException("not started");

        public async ValueTask InitializeAsync() => _server = await FuzzServer.StartAsync(PolicyJson);

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    // The cases are looked up by label: the theories' data stays small (some arguments are a megabyte long).
    private static readonly Lazy<Dictionary<string, string>> ArgumentCases = new(BuildArgumentCases);
    private static readonly Lazy<Dictionary<string, (string Params, Expected Expected)>> ParamsCases = new(BuildParamsCases);
    private static readonly Lazy<Dictionary<string, (byte[] Line, bool Answered)>> RawLineCases = new(BuildRawLineCases);

    public static TheoryData<string> HostileArguments => [.. ArgumentCases.Value.Keys];

    public static TheoryData<string> HostileParams => [.. ParamsCases.Value.Keys];

    public static TheoryData<string> RawLines => [.. RawLineCases.Value.Keys];

    private static Dictionary<string, string> BuildArgumentCases()
    {
        var data = new Dictionary<string, string>(StringComparer.Ordinal);
        void Add(string label, string arguments) => data.Add(label, arguments);

        Add("allowed", "{" + Good + "}");
        Add("empty", "{}");

        // Duplicate keys: the SDK keeps the last copy of a top-level argument, and the tool sees that same copy.
        Add("duplicate, denied copy last", "{" + Good + ",\"amount\":2000}");
        Add("duplicate, allowed copy last", "{\"amount\":2000," + Good + "}");
        Add("duplicate account", "{" + Good + ",\"account\":\"ABC\"}");
        Add("duplicate nested key", "{" + Good + ",\"opts\":{\"force\":false,\"force\":true}}");
        Add("duplicate nested key, both false", "{" + Good + ",\"opts\":{\"force\":false,\"force\":false}}");
        Add("a single nested key", "{" + Good + ",\"opts\":{\"force\":true}}");

        // Numbers: exact comparison, whatever their size or spelling.
        foreach (var amount in new[]
        {
            "0", "-0", "0.0", "-0.0e5", "500", "500.0", "5e2", "0.5e3", "50000e-2", "500.0000000000000000000001", "500.00000000000000000000", "501", "1000", "1e3", "1000.0000000000000000001", "1001",
            "-1", "-1e-999999", "1e-999999", "1e999999", "-1e999999", "1E+999999", "1e99999999999999999999", "1e-99999999999999999999", "-1e99999999999999999999",
            "1" + new string('0', 9999), "-1" + new string('0', 9999), "0." + new string('0', 9998) + "1", "499." + new string('9', 9995), "500." + new string('0', 9994) + "1", "9007199254740993", "1000.0",
        })
        {
            Add("amount " + (amount.Length > 40 ? amount[..20] + "…(" + amount.Length + " chars)" : amount), "{" + Good + ",\"amount\":" + amount + "}");
        }

        foreach (var amount in new[] { "\"5\"", "true", "null", "[5]", "{\"v\":5}", "\"\"" })
        {
            Add("amount of another type " + amount, "{" + Good + ",\"amount\":" + amount + "}");
        }

        // Strings: NUL, controls, escapes of the allowed values, look-alikes, near misses.
        foreach (var account in new[]
        {
            "\"\\u0061bc\"", "\"abc\\u0000\"", "\"\\u0000abc\"", "\"ab\\u0000c\"", "\"ABC\"", "\"\"", "\"abcdefghijklm\"", "\"abcdefghijkl\"", "\"ab c\"",
            "\"abc\\t\"", "\"\\u00e1bc\"", "\"a\\u0301bc\"", "\"\\ud83d\\ude00\"", "\"\\u2028abc\"", "\"abc\\uffff\"", "\"\\u212a\"", "5", "[\"abc\"]", "{}",
        })
        {
            Add("account " + account, "{" + Good + ",\"account\":" + account + "}");
        }

        foreach (var file in new[]
        {
            "\"/srv/data\"", "\"/srv/data/\"", "\"/srv/data/./x\"", "\"/srv//data/x\"", "\"/srv/data/a/../b\"", "\"/srv/data/../etc/passwd\"", "\"/srv/data/a/../../etc\"",
            "\"/srv/database\"", "\"/srv/Data/x\"", "\"srv/data/x\"", "\"/srv/data/x\\u0000.txt\"", "\"/srv/data\\\\x\"", "\"\\\\srv\\\\data\\\\x\"", "\"//srv/data/x\"",
            "\"/srv/data/%2e%2e/etc\"", "\"/srv/data/\\u2024\\u2024/etc\"", "\"/srv/data/x\\n\"", "\"/../srv/data/x\"", "\"\"", "[\"/srv/data/x\"]",
        })
        {
            Add("file " + file, "{" + Good + ",\"file\":" + file + "}");
        }

        foreach (var mode in new[] { "\"write\"", "\"\\u0072ead\"", "\"READ\"", "\"read\\u0000\"", "\"read \"", "[\"read\"]", "null", "1" })
        {
            Add("mode " + mode, "{" + Good + ",\"mode\":" + mode + "}");
        }

        foreach (var note in new[] { "\"DROP\"", "\"x DROP table\"", "\"\\u0044ROP\"", "\"DRO\\u0000P\"", "\"drop\"", "[\"DROP\"]", "[\"x\",\"\\u0044ROP\"]", "[[\"DROP\"]]", "[\"DROP table\"]", "5", "{\"DROP\":1}" })
        {
            Add("note " + note, "{" + Good + ",\"note\":" + note + "}");
        }

        foreach (var opts in new[] { "{\"force\":true}", "{\"force\":\"true\"}", "{\"force\":1}", "{\"force\":null}", "[true]", "{\"f\\u006frce\":true}", "{\"force\":false,\"force\":true,\"force\":false}" })
        {
            Add("opts " + opts, "{" + Good + ",\"opts\":" + opts + "}");
        }

        // Odd names, odd shapes.
        Add("NUL and control characters in names", "{" + Good + ",\"\\u0000\":1,\"\\u001f\\u007f\":2,\"\\ud83d\\ude00\":3}");
        Add("empty name", "{" + Good + ",\"\":\"x\"}");
        Add("a name escaping 'amount'", "{\"account\":\"abc\",\"\\u0061mount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}");
        Add("a dotted name", "{" + Good + ",\"opts.force\":true}");
        Add("many arguments", "{" + Good + string.Concat(Enumerable.Range(0, 2000).Select(i => ",\"k" + i + "\":" + i)) + "}");

        // Lone surrogates, escaped (the only way JSON text can carry them).
        Add("lone high surrogate in a value", "{" + Good + ",\"note\":\"\\ud800\"}");
        Add("lone low surrogate in a value", "{" + Good + ",\"note\":\"x\\udfff\"}");
        Add("reversed pair in a value", "{" + Good + ",\"note\":\"\\ude00\\ud83d\"}");
        Add("lone surrogate in a name", "{" + Good + ",\"\\ud800\":1}");
        Add("lone surrogate in a nested name", "{" + Good + ",\"opts\":{\"\\udbff\":true}}");
        Add("lone surrogate in the account", "{\"account\":\"\\ud800\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}");

        // Depth: the SDK refuses a message deeper than its limit before anything else.
        foreach (var depth in new[] { 10, SdkMaxDepth - 4, SdkMaxDepth - 3, SdkMaxDepth - 2, 300, 5000 })
        {
            Add("arrays nested " + depth + " deep", "{" + Good + ",\"deep\":" + new string('[', depth) + new string(']', depth) + "}");
        }

        Add("objects nested 200 deep", "{" + Good + ",\"opts\":" + string.Concat(Enumerable.Repeat("{\"force\":", 200)) + "true" + new string('}', 200) + "}");

        // Size: the guard's cap counts 2 + for each argument (UTF-8 name + 4 + raw JSON value).
        var baseSize = 2 + ArgsBytes("account", "\"abc\"") + ArgsBytes("amount", "5") + ArgsBytes("file", "\"/srv/data/x\"") + ArgsBytes("mode", "\"read\"");
        var padding = Cap - baseSize - ArgsBytes("pad", "\"\"");
        Add("exactly at the size cap", "{" + Good + ",\"pad\":\"" + new string('a', padding) + "\"}");
        Add("one byte over the size cap", "{" + Good + ",\"pad\":\"" + new string('a', padding + 1) + "\"}");
        Add("a huge account", "{\"account\":\"" + new string('a', Cap - 200) + "\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}");
        Add("a huge denied account over the cap", "{\"account\":\"" + new string('A', Cap + 10) + "\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}");
        Add("a huge number", "{" + Good + ",\"amount\":1" + new string('0', Cap - 100) + "}");
        return data;
    }

    private static int ArgsBytes(string name, string rawValue) => Encoding.UTF8.GetByteCount(name) + 4 + Encoding.UTF8.GetByteCount(rawValue);

    [Theory]
    [MemberData(nameof(HostileArguments))]
    public async Task HostileArguments_DecidedAsThePolicySays(string label)
    {
        var server = fixture.Server;
        var arguments = ArgumentCases.Value[label];
        var expected = Reference.Expect("transfer", arguments);
        var problem = await server.CheckAsync("{\"name\":\"transfer\",\"arguments\":" + arguments + "}", expected);
        Assert.True(problem is null, $"{label}: {problem}");
    }

    private static Dictionary<string, (string, Expected)> BuildParamsCases()
    {
        var unknown = Expected.ProtocolError(-32602, "Unknown tool");
        var malformed = Expected.ProtocolError(-32602, "tools/call denied");
        var denied = Expected.Decided("transfer", DecisionKind.Deny, []);
        var hidden = Expected.Hidden("admin_reset");
        var longName = new string('t', 100_000);
        return new Dictionary<string, (string, Expected)>(StringComparer.Ordinal)
        {
            ["arguments an array"] = ("""{"name":"transfer","arguments":[1]}""", malformed),
            ["arguments an empty array"] = ("""{"name":"transfer","arguments":[]}""", malformed),
            ["arguments a string"] = ("""{"name":"transfer","arguments":"{\"amount\":5}"}""", malformed),
            ["arguments a number"] = ("""{"name":"transfer","arguments":5}""", malformed),
            ["arguments a huge number"] = ("""{"name":"transfer","arguments":1e999999}""", malformed),
            ["arguments true"] = ("""{"name":"transfer","arguments":true}""", malformed),
            ["arguments null"] = ("""{"name":"transfer","arguments":null}""", denied),
            ["arguments missing"] = ("""{"name":"transfer"}""", denied),
            ["arguments twice, the array last"] = ("""{"name":"transfer","arguments":{},"arguments":[1]}""", malformed),
            ["arguments twice, the object last"] = ("""{"name":"transfer","arguments":[1],"arguments":{"amount":5}}""", malformed),
            ["arguments twice, allowed copy first"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"arguments\":{\"amount\":2000}}", malformed),
            ["name twice, hidden last"] = ("""{"name":"echo","name":"admin_reset","arguments":{}}""", malformed),
            ["name twice, hidden first"] = ("""{"name":"admin_reset","name":"echo","arguments":{}}""", malformed),
            ["name empty"] = ("""{"name":"","arguments":{}}""", malformed),
            ["name missing"] = ("""{"arguments":{}}""", malformed),
            ["name null"] = ("""{"name":null,"arguments":{}}""", malformed),
            ["name a number"] = ("""{"name":5,"arguments":{}}""", malformed),
            ["name an array"] = ("""{"name":["transfer"],"arguments":{}}""", malformed),
            ["name a lone surrogate"] = ("""{"name":"\ud800","arguments":{}}""", malformed),
            ["name ending in a lone surrogate"] = ("""{"name":"transfer\udc00","arguments":{}}""", malformed),
            ["name of a hidden tool with a lone surrogate"] = ("""{"name":"admin_reset\ud800","arguments":{}}""", malformed),
            ["name with NUL"] = ("""{"name":"transfer\u0000","arguments":{}}""", unknown),
            ["name with a trailing space"] = ("""{"name":"transfer ","arguments":{}}""", unknown),
            ["name in another case"] = ("""{"name":"Transfer","arguments":{}}""", unknown),
            ["name escaped"] = ("{\"name\":\"\\u0074ransfer\",\"arguments\":{" + Good + "}}", Expected.Decided("transfer", DecisionKind.Allow, ["account", "amount", "file", "mode"])),
            ["name very long"] = ("{\"name\":\"" + longName + "\",\"arguments\":{}}", unknown),
            ["name very long, matching the hidden glob"] = ("{\"name\":\"admin_" + longName + "\",\"arguments\":{}}", unknown),
            ["hidden tool"] = ("""{"name":"admin_reset","arguments":{}}""", hidden),
            ["hidden tool, escaped name"] = ("""{"name":"\u0061dmin_reset","arguments":{}}""", hidden),
            ["hidden tool, hostile arguments"] = ("{\"name\":\"admin_reset\",\"arguments\":{\"\\u0000\":1e999999,\"a\":1,\"a\":[[[[]]]]}}", hidden),
            ["hidden tool, arguments over the cap"] = ("{\"name\":\"admin_reset\",\"arguments\":{\"pad\":\"" + new string('a', Cap) + "\"}}", hidden),
            ["hidden tool, arguments an array"] = ("""{"name":"admin_reset","arguments":[1]}""", malformed),
            ["a params member named with a lone surrogate"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"\\udc00\":1}", malformed),
            ["a params member repeated, an unknown one"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"x\":1,\"x\":2}", malformed),
            ["params an array"] = ("""["transfer",{}]""", malformed),
            ["params a string"] = ("\"transfer\"", malformed),
            ["params null"] = ("null", malformed),
            ["params empty"] = ("{}", malformed),
            ["_meta a number"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"_meta\":5}", Expected.AnyRefusal),
            ["_meta with a lone surrogate"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"_meta\":{\"x\":\"\\ud800\"}}", malformed),
            ["unknown params member"] = ("{\"name\":\"transfer\",\"arguments\":{" + Good + "},\"extra\":{\"amount\":2000}}", Expected.Decided("transfer", DecisionKind.Allow, ["account", "amount", "file", "mode"])),
        };
    }

    [Theory]
    [MemberData(nameof(HostileParams))]
    public async Task HostileParams_NeverRunADeniedCall(string label)
    {
        var server = fixture.Server;
        var (parameters, expected) = ParamsCases.Value[label];
        var problem = await server.CheckAsync(parameters, expected);
        Assert.True(problem is null, $"{label}: {problem}");
    }

    private static Dictionary<string, (byte[] Line, bool Answered)> BuildRawLineCases() => new(StringComparer.Ordinal)
    {
        // Text that is not JSON, or not UTF-8, in a line of its own. A line with an id is answered (a parse error, or a
        // decision when the SDK makes a call of it: it reads invalid UTF-8 as U+FFFD); the others are dropped, a line
        // that starts with a byte order mark included.
        ["a raw NUL in a string"] = (Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7001,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{" + Good + ",\"note\":\"a\0b\"}}}"), true),
        ["a raw control character in a name"] = (Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7002,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{" + Good + ",\"\u0001\":1}}}"), true),
        ["an invalid UTF-8 byte in the account"] = ([.. "{\"jsonrpc\":\"2.0\",\"id\":7003,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{\"account\":\"abc"u8, 0xFF, .. "\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}}}"u8], true),
        ["a CESU-8 lone surrogate in the account"] = ([.. "{\"jsonrpc\":\"2.0\",\"id\":7004,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{\"account\":\"abc"u8, 0xED, 0xA0, 0x80, .. "\",\"amount\":5,\"file\":\"/srv/data/x\",\"mode\":\"read\"}}}"u8], true),
        ["an overlong encoding of '/' in the file"] = ([.. "{\"jsonrpc\":\"2.0\",\"id\":7005,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{\"account\":\"abc\",\"amount\":5,\"file\":\"/srv/data/.."u8, 0xC0, 0xAF, .. "etc\",\"mode\":\"read\"}}}"u8], true),
        ["truncated"] = (Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7006,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{" + Good), true),
        ["trailing garbage"] = (Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7007,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{\"amount\":2000}}} {\"x\":1}"), true),
        ["a raw CR inside a value"] = (Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7008,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{" + Good + ",\"note\":\"a\rb\"}}}"), true),
        ["not JSON"] = ("tools/call transfer"u8.ToArray(), false),
        ["a bare number"] = ("1e999999"u8.ToArray(), false),
        ["an empty object"] = ("{}"u8.ToArray(), false),
        ["a BOM and a call"] = ([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":7012,\"method\":\"tools/call\",\"params\":{\"name\":\"transfer\",\"arguments\":{\"amount\":2000}}}")], false),
    };

    [Theory]
    [MemberData(nameof(RawLines))]
    public async Task RawLines_NeverRunAToolOrWedgeTheServer(string label)
    {
        var server = fixture.Server;
        var (line, answered) = RawLineCases.Value[label];
        var problem = await server.CheckRawLineAsync(line, answered);
        Assert.True(problem is null, $"{label}: {problem}");
    }

    /// <summary>Random argument objects: hostile names and strings, every spelling of every operand, duplicates, noise.</summary>
    [Property(MaxTest = 300, Arbitrary = [typeof(ArgumentGenerators)])]
    public Property RandomArguments_DecidedAsThePolicySays(FuzzArguments arguments)
    {
        var server = fixture.Server;
        var expected = Reference.Expect("transfer", arguments.Text);
        var problem = Task.Run(() => server.CheckAsync("{\"name\":\"transfer\",\"arguments\":" + arguments.Text + "}", expected)).GetAwaiter().GetResult();
        return (problem is null).Label(problem ?? string.Empty);
    }

    /// <summary>
    /// .NET's <c>$</c> also matches before a final newline, so <c>^[a-z]+$</c> (and the JSON Schema <c>pattern</c>, which
    /// JSON Schema defines with ECMA-262 semantics, where <c>$</c> is the end of the input) let <c>"abc\n"</c> through.
    /// </summary>
    [Theory]
    [InlineData("""{ "version": "2", "default": "deny", "tools": { "echo": {}, "transfer": { "require": [ { "path": "args.account", "op": "regex", "value": "^[a-z]+$" } ] } } }""")]
    [InlineData("""{ "version": "2", "default": "deny", "tools": { "echo": {}, "transfer": { "args_schema": { "type": "object", "required": ["account"], "properties": { "account": { "type": "string", "pattern": "^[a-z]{1,12}$" } } } } } }""")]
    public async Task AnchoredPattern_TrailingNewline_IsDenied(string policy)
    {
        await using var server = await FuzzServer.StartAsync(policy);
        var problem = await server.CheckAsync("""{"name":"transfer","arguments":{"account":"abc\n"}}""", Expected.Decided("transfer", DecisionKind.Deny, ["account"]));
        Assert.True(problem is null, problem);
    }

    // ------------------------------------------------------------------ expectations

    /// <summary>What a request must produce.</summary>
    /// <param name="ErrorCode">A JSON-RPC error with this code, or <see langword="null"/> for a <c>result</c>.</param>
    /// <param name="ErrorText">Text the error message must contain.</param>
    /// <param name="Runs">The tool that runs (once), or <see langword="null"/>: none does.</param>
    /// <param name="DecisionTool">The tool of the one decision event the request causes, or <see langword="null"/>: none.</param>
    /// <param name="Kind">That decision's kind.</param>
    /// <param name="ArgumentNames">That decision's argument names (sorted), when known.</param>
    /// <param name="Rule">That decision's rule, when known.</param>
    /// <param name="ToolSees">The arguments the tool must receive (name → JSON), when it runs.</param>
    /// <param name="IsAnyRefusal">Only require that nothing runs, that the answer is an error, and that a decision event, if any, is not an allow.</param>
    public sealed record Expected(
        int? ErrorCode,
        string? ErrorText,
        string? Runs,
        string? DecisionTool,
        DecisionKind Kind,
        IReadOnlyList<string>? ArgumentNames,
        string? Rule,
        IReadOnlyDictionary<string, string>? ToolSees,
        bool IsAnyRefusal = false)
    {
        /// <summary>Another acceptable outcome, for what the design leaves open.</summary>
        public Expected? Or { get; init; }

        public static readonly Expected AnyRefusal = new(null, null, null, null, DecisionKind.Deny, null, null, null, IsAnyRefusal: true);

        public static Expected ProtocolError(int code, string text) => new(code, text, null, null, DecisionKind.Deny, null, null, null);

        public static Expected TooLarge() => new(null, "larger than", null, null, DecisionKind.Deny, null, null, null);

        public static Expected Hidden(string tool) => new(-32602, "Unknown tool", null, tool, DecisionKind.Deny, null, BuiltInRules.Hidden, null);

        public static Expected Decided(string tool, DecisionKind kind, IReadOnlyList<string> names, string? rule = null, IReadOnlyDictionary<string, string>? toolSees = null) =>
            new(null, null, kind == DecisionKind.Allow ? tool : null, tool, kind, names, rule, toolSees);

        public override string ToString() => IsAnyRefusal ? "any refusal"
            : ErrorCode is { } code ? $"error {code} '{ErrorText}'" + (DecisionTool is null ? string.Empty : $" after a {Kind} decision ({Rule})")
            : DecisionTool is null ? $"result '{ErrorText}' without a decision"
            : $"{Kind} {Rule} [{string.Join(",", ArgumentNames ?? [])}]" + (Or is null ? string.Empty : " or " + Or);
    }

    /// <summary>
    /// <see cref="PolicyJson"/> restated for <c>transfer</c>, straight from DESIGN §2, on the SDK's view of the arguments (the
    /// last copy of a duplicated top-level name wins, as in System.Text.Json's dictionary binding).
    /// </summary>
    internal static class Reference
    {
        private static readonly JsonDocumentOptions Lenient = new() { MaxDepth = 100_000 };

        // The engine's dialect: .NET's, linear-time, with '$' meaning the end of the input (AnchoredPattern_TrailingNewline_IsDenied).
        private static readonly Regex Account = new("^[a-z]+\\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
        private static readonly Regex SchemaAccount = new("^[a-z]{1,12}\\z", RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);

        /// <summary>
        /// The file values the tests send, and whether <c>path_under /srv/data</c> holds for each: lexically (DESIGN §2), and
        /// strictly: a path lexically inside but in a form a tool might read otherwise (a backslash under a POSIX root, a
        /// UNC-like <c>//</c>, percent-encoding, a look-alike dot, a control character) is refused (SECURITY.md, property 6).
        /// (<see langword="null"/> would accept either answer; none is left.)
        /// </summary>
        private static readonly Dictionary<string, bool?> Files = new(StringComparer.Ordinal)
        {
            ["/srv/data"] = true,
            ["/srv/data/"] = true,
            ["/srv/data/x"] = true,
            ["/srv/data/./x"] = true,
            ["/srv//data/x"] = true,
            ["/srv/data/a/../b"] = true,
            ["/srv/data/../etc/passwd"] = false,
            ["/srv/data/a/../../etc"] = false,
            ["/srv/database"] = false,
            ["/srv/Data/x"] = false,
            ["srv/data/x"] = false,
            ["/srv/data/x\0.txt"] = false,
            ["/../srv/data/x"] = false,
            [string.Empty] = false,
            ["/srv/data\\x"] = false,
            ["\\srv\\data\\x"] = false,
            ["//srv/data/x"] = false,
            ["/srv/data/%2e%2e/etc"] = false,
            ["/srv/data/\u2024\u2024/etc"] = false,
            ["/srv/data/x\n"] = false,
        };

        private static bool? Under(string file) =>
            Files.TryGetValue(file, out var under) ? under
            : SimpleFile.IsMatch(file) ? true
            : throw new InvalidOperationException("no reference answer for the file " + file);

        private static readonly Regex SimpleFile = new("^/srv/data/[a-z]+\\z", RegexOptions.CultureInvariant);

        public static Expected Expect(string tool, string argumentsText)
        {
            // The message and params objects hold the arguments.
            if (Depth(argumentsText) + 2 > SdkMaxDepth)
            {
                return Expected.ProtocolError(-32700, "parse");
            }

            using var document = JsonDocument.Parse(argumentsText, Lenient);
            var root = document.RootElement;

            if (HasLoneSurrogate(root))
            {
                return Expected.ProtocolError(-32602, "lone surrogate");
            }

            var args = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                args[property.Name] = property.Value;
            }

            long size = 2;
            foreach (var (name, value) in args)
            {
                size += Encoding.UTF8.GetByteCount(name) + 4 + Encoding.UTF8.GetByteCount(value.GetRawText());
            }

            if (size > Cap)
            {
                return Expected.TooLarge();
            }

            var names = args.Keys.Order(StringComparer.Ordinal).ToArray();
            var (kind, rule) = Decide(args);
            var expected = Expected.Decided(tool, kind, names, rule, args.ToDictionary(a => a.Key, a => a.Value.GetRawText(), StringComparer.Ordinal));
            var unsettled = Get(args, "file") is { ValueKind: JsonValueKind.String } file && Under(file.GetString()!) is null;
            return unsettled && kind != DecisionKind.Deny
                ? expected with { Or = Expected.Decided(tool, DecisionKind.Deny, names, "/tools/transfer/require/2") }
                : expected;
        }

        private static (DecisionKind Kind, string Rule) Decide(Dictionary<string, JsonElement> args)
        {
            const string At = "/tools/transfer/";
            var account = Get(args, "account");
            var amount = Get(args, "amount");
            // The schema sees a present null too (it is not a string).
            if (args.TryGetValue("account", out var a) && !(a.ValueKind == JsonValueKind.String && SchemaAccount.IsMatch(a.GetString()!)))
            {
                return (DecisionKind.Deny, At + "args_schema");
            }

            if (amount is not { ValueKind: JsonValueKind.Number } n || Compare(n.GetRawText(), 0) < 0)
            {
                return (DecisionKind.Deny, At + "require/0");
            }

            if (account is not { ValueKind: JsonValueKind.String } s || !Account.IsMatch(s.GetString()!))
            {
                return (DecisionKind.Deny, At + "require/1");
            }

            var under = Get(args, "file") is { ValueKind: JsonValueKind.String } file ? Under(file.GetString()!) : false;

            if (under == false)
            {
                return (DecisionKind.Deny, At + "require/2");
            }

            if (Get(args, "mode") is not { ValueKind: JsonValueKind.String } mode || mode.GetString() is not ("read" or "write"))
            {
                return (DecisionKind.Deny, At + "require/3");
            }

            if (Compare(n.GetRawText(), 1000) > 0)
            {
                return (DecisionKind.Deny, At + "deny_if/0");
            }

            if (Get(args, "note") is { } note && (note.ValueKind == JsonValueKind.String
                ? note.GetString()!.Contains("DROP", StringComparison.Ordinal)
                : note.ValueKind == JsonValueKind.Array && note.EnumerateArray().Any(e => e.ValueKind == JsonValueKind.String && e.GetString() == "DROP")))
            {
                return (DecisionKind.Deny, At + "deny_if/1");
            }

            if (Get(args, "opts") is { ValueKind: JsonValueKind.Object } opts)
            {
                var forces = opts.EnumerateObject().Where(p => p.Name == "force").ToList();
                if (forces.Count > 1 || (forces.Count == 1 && forces[0].Value.ValueKind == JsonValueKind.True))
                {
                    return (DecisionKind.Deny, At + "deny_if/2");
                }
            }

            return Compare(n.GetRawText(), 500) > 0 ? (DecisionKind.NeedsApproval, At + "approval") : (DecisionKind.Allow, At.TrimEnd('/'));
        }

        /// <summary>A present, non-null argument.</summary>
        private static JsonElement? Get(Dictionary<string, JsonElement> args, string name) =>
            args.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

        /// <summary>Compares a JSON number's text with an integer exactly, whatever its exponent or digit count.</summary>
        internal static int Compare(string number, int k)
        {
            var negative = number.StartsWith('-');
            var text = negative ? number[1..] : number;
            var e = text.IndexOfAny(['e', 'E']);
            var exponent = e < 0 ? BigInteger.Zero : BigInteger.Parse(text[(e + 1)..].TrimStart('+'), CultureInfo.InvariantCulture);
            var mantissa = e < 0 ? text : text[..e];
            var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
            var fraction = dot < 0 ? string.Empty : mantissa[(dot + 1)..];
            var digits = ((dot < 0 ? mantissa : mantissa[..dot]) + fraction).TrimStart('0');
            if (digits.Length == 0)
            {
                return 0.CompareTo(k);
            }

            if (negative)
            {
                return -1; // k >= 0 in every use
            }

            // value = D × 10^scale, D having digits.Length digits.
            var scale = exponent - fraction.Length;
            var magnitude = scale + digits.Length; // 10^(magnitude-1) <= value < 10^magnitude
            if (magnitude > 12)
            {
                return 1;
            }

            if (magnitude < -2)
            {
                return k == 0 ? 1 : -1;
            }

            var d = BigInteger.Parse(digits, CultureInfo.InvariantCulture);
            return scale >= 0
                ? (d * BigInteger.Pow(10, (int)scale)).CompareTo(new BigInteger(k))
                : d.CompareTo(new BigInteger(k) * BigInteger.Pow(10, (int)-scale));
        }

        /// <summary>The deepest nesting of objects and arrays in a JSON text (no recursion: some texts nest thousands deep).</summary>
        private static int Depth(string json)
        {
            int depth = 0, deepest = 0;
            var inString = false;
            for (var i = 0; i < json.Length; i++)
            {
                var c = json[i];
                if (inString)
                {
                    if (c == '\\')
                    {
                        i++;
                    }
                    else if (c == '"')
                    {
                        inString = false;
                    }
                }
                else if (c == '"')
                {
                    inString = true;
                }
                else if (c is '[' or '{')
                {
                    deepest = Math.Max(deepest, ++depth);
                }
                else if (c is ']' or '}')
                {
                    depth--;
                }
            }

            return deepest;
        }

        private static bool HasLoneSurrogate(JsonElement element)
        {
            try
            {
                Walk(element);
                return false;
            }
            catch (InvalidOperationException)
            {
                return true;
            }

            static void Walk(JsonElement element)
            {
                switch (element.ValueKind)
                {
                    case JsonValueKind.Object:
                        foreach (var property in element.EnumerateObject())
                        {
                            _ = property.Name;
                            Walk(property.Value);
                        }

                        break;
                    case JsonValueKind.Array:
                        foreach (var item in element.EnumerateArray())
                        {
                            Walk(item);
                        }

                        break;
                    case JsonValueKind.String:
                        _ = element.GetString();
                        break;
                }
            }
        }
    }

    // ------------------------------------------------------------------ generators

    /// <summary>The exact text of a generated <c>arguments</c> object.</summary>
    public sealed record FuzzArguments(string Text)
    {
        public override string ToString() => Text.Length > 2000 ? Text[..2000] + "…" : Text;
    }

    public static class ArgumentGenerators
    {
        private static readonly char[] HostileUnits =
        [
            '\0', '\u0001', '\t', '\n', '\r', '\u001f', '\u007f', '\u0085', '"', '\\', '/', '.', ' ', 'a', 'z', 'A', 'é', '\u0301', '\u2028', '\u2029',
            '\u200b', '\u202e', '\ufeff', '\ufffd', '\ufffe', '\uffff', '\u2024', '\uff0e', '%', '*', '$', '^', 'D', 'R', 'O', 'P',
        ];

        private static readonly string[] Surrogates = ["\ud800", "\udbff", "\udc00", "\udfff"];

        public static Arbitrary<FuzzArguments> Arguments() => Object().Select(text => new FuzzArguments(text)).ToArbitrary();

        /// <summary>A string of hostile UTF-16 units (controls, quotes, separators, invisible and look-alike characters, pairs; no lone surrogate).</summary>
        private static Gen<string> HostileText() =>
            Gen.Frequency(
                    (6, Gen.Elements(HostileUnits).Select(c => c.ToString())),
                    (1, Gen.Choose(0x20, 0xD7FF).Select(i => ((char)i).ToString())),
                    (1, Gen.Constant("\ud83d\ude00")))
                .ListOf()
                .Select(parts => string.Concat(parts.Take(12)));

        /// <summary>A JSON string literal for <paramref name="value"/>, each unit spelled raw or escaped as the seed picks.</summary>
        internal static string Literal(string value, int seed)
        {
            var random = new Random(seed);
            var builder = new StringBuilder("\"");
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                var paired = char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]);
                if (paired && random.Next(2) == 0)
                {
                    builder.Append(c).Append(value[++i]);
                }
                else if (c < 0x20 || c is '"' or '\\' || char.IsSurrogate(c) || random.Next(4) == 0)
                {
                    builder.Append(c switch
                    {
                        '"' when random.Next(2) == 0 => "\\\"",
                        '\\' when random.Next(2) == 0 => "\\\\",
                        '\n' when random.Next(2) == 0 => "\\n",
                        _ => "\\u" + ((int)c).ToString(random.Next(2) == 0 ? "x4" : "X4", CultureInfo.InvariantCulture),
                    });
                }
                else
                {
                    builder.Append(c);
                }
            }

            return builder.Append('"').ToString();
        }

        private static Gen<string> Lit(Gen<string> values) =>
            from value in values
            from seed in Gen.Choose(0, int.MaxValue)
            select Literal(value, seed);

        private static Gen<string> Lowercase(int min, int max) =>
            Gen.Choose(min, max).SelectMany(length => Gen.Elements("abcdefghijklmnopqrstuvwxyz".ToCharArray()).ArrayOf(length)).Select(chars => new string(chars));

        // Each operand is mostly one the policy accepts (spelled in many ways), so that whole calls are often allowed and
        // one hostile change at a time decides them; then near misses, hostile text, and values of other types.
        private static Gen<string> Amount() => Gen.Frequency(
            (6, Gen.Choose(0, 500).Select(i => i.ToString(CultureInfo.InvariantCulture))),
            (3, Gen.Elements(
                "0", "-0", "0.0", "5.5", "500", "500.0", "5e2", "5E+2", "0.5e3", "50000e-2", "500.0000000000000000000001", "499.9999999999999999999999",
                "501", "1000", "1e3", "1000.0000000000000000001", "1001", "-1", "-0.000001", "1e-999999", "-1e-999999", "1e999999", "-1e999999",
                "1e99999999999999999999", "1e-99999999999999999999", "9007199254740993", "18446744073709551617", "1" + new string('0', 9999),
                "0." + new string('0', 9998) + "1", "500." + new string('0', 9994) + "1", "499." + new string('9', 9995))),
            (1, Gen.Choose(-10, 2000).Select(i => i.ToString(CultureInfo.InvariantCulture))),
            (1, Gen.Elements("\"5\"", "true", "null", "[5]", "{}")));

        private static Gen<string> Account() => Gen.Frequency(
            (8, Lit(Lowercase(1, 12))),
            (1, Lit(Lowercase(13, 16))),
            (2, Lit(Gen.Elements("ABC", string.Empty, "ab c", "a\u0000", "\u212a", "é", "abc\t", "\u0430bc"))),
            (1, Lit(HostileText())),
            (1, Gen.Elements("5", "null", "[\"abc\"]")));

        private static Gen<string> File() => Gen.Frequency(
            (6, Lit(Lowercase(1, 8).Select(segment => "/srv/data/" + segment))),
            (4, Lit(Gen.Elements(
                "/srv/data", "/srv/data/", "/srv/data/x", "/srv/data/./x", "/srv//data/x", "/srv/data/a/../b", "/srv/data/../etc/passwd", "/srv/data/a/../../etc",
                "/srv/database", "/srv/Data/x", "srv/data/x", "/srv/data/x\0.txt", "/srv/data\\x", "\\srv\\data\\x", "//srv/data/x", "/srv/data/%2e%2e/etc",
                "/srv/data/\u2024\u2024/etc", "/srv/data/x\n", "/../srv/data/x", string.Empty))),
            (1, Gen.Elements("5", "null", "[\"/srv/data/x\"]")));

        private static Gen<string> Mode() => Gen.Frequency(
            (8, Lit(Gen.Elements("read", "write"))),
            (2, Lit(Gen.Elements("READ", "read\0", "read ", "rea", string.Empty))),
            (1, Lit(HostileText())),
            (1, Gen.Elements("[\"read\"]", "null", "1")));

        private static Gen<string> Note() => Gen.OneOf(
            Lit(Gen.Elements("DROP", "x DROP y", "drop", "DRO", "DR\0OP")),
            Lit(HostileText()),
            from items in Lit(Gen.Elements("DROP", "x", "DROP table", "\u0000")).ListOf()
            select "[" + string.Join(",", items.Take(4)) + "]",
            Gen.Elements("5", "null", "{\"DROP\":1}", "[[\"DROP\"]]"));

        private static Gen<string> Opts() => Gen.Elements(
            "{\"force\":true}", "{\"force\":false}", "{\"force\":\"true\"}", "{\"force\":1}", "{\"force\":null}", "[true]", "{}",
            "{\"force\":false,\"force\":true}", "{\"force\":false,\"force\":false}", "{\"f\\u006frce\":true}", "{\"force\":{\"force\":true}}");

        /// <summary>A small JSON value with hostile strings and numbers, up to <paramref name="depth"/> levels.</summary>
        private static Gen<string> Noise(int depth)
        {
            var leaf = Gen.OneOf(
                Lit(HostileText()),
                Gen.Elements("0", "-0", "1e999999", "-1e-999999", "1" + new string('0', 400), "true", "false", "null", "[]", "{}"));
            if (depth == 0)
            {
                return leaf;
            }

            return Gen.Frequency(
                (3, leaf),
                (1, Noise(depth - 1).ListOf().Select(items => "[" + string.Join(",", items.Take(3)) + "]")),
                (1, (from name in Lit(HostileText()) from value in Noise(depth - 1) select name + ":" + value)
                    .ListOf().Select(members => "{" + string.Join(",", members.Take(3)) + "}")),
                (1, Gen.Choose(1, 40).Select(d => new string('[', d) + "0" + new string(']', d))));
        }

        /// <summary>A member whose name or value (maybe nested) holds a lone surrogate: the whole call is refused.</summary>
        private static Gen<string> Surrogate() =>
            from text in HostileText()
            from lone in Gen.Elements(Surrogates)
            from at in Gen.Choose(0, text.Length)
            from place in Gen.Choose(0, 3)
            from seed in Gen.Choose(0, int.MaxValue)
            let literal = Literal(text.Insert(at, lone), seed)
            select place switch
            {
                0 => literal + ":1",
                1 => "\"note\":" + literal,
                2 => "\"x\":{\"y\":[" + literal + "]}",
                _ => "\"x\":{" + literal + ":true}",
            };

        /// <summary>An arguments object: the operands each present or not, extra hostile members, some names repeated, in any order.</summary>
        private static Gen<string> Object()
        {
            Gen<string?> Maybe(string name, Gen<string> value, int presentWeight) =>
                Gen.Frequency(
                    (presentWeight, value.Select(v => (string?)("\"" + name + "\":" + v))),
                    (1, Gen.Constant((string?)null)));

            var extra = from name in Lit(HostileText()) from value in Noise(2) select name + ":" + value;
            return from account in Maybe("account", Account(), 15)
                   from amount in Maybe("amount", Amount(), 15)
                   from file in Maybe("file", File(), 15)
                   from mode in Maybe("mode", Mode(), 15)
                   from note in Maybe("note", Note(), 1)
                   from opts in Maybe("opts", Opts(), 1)
                   from surrogate in Gen.Frequency((1, Surrogate().Select(m => (string?)m)), (12, Gen.Constant((string?)null)))
                   from extras in extra.ListOf()
                   from repeats in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
                   from seed in Gen.Choose(0, int.MaxValue)
                   select Assemble([account, amount, file, mode, note, opts, surrogate, .. extras.Take(3)], repeats, seed);
        }

        private static string Assemble(List<string?> members, int repeats, int seed)
        {
            var random = new Random(seed);
            var present = members.OfType<string>().ToList();
            for (var i = 0; i < repeats && present.Count > 0; i++)
            {
                present.Add(present[random.Next(present.Count)]);
            }

            return "{" + string.Join(",", present.OrderBy(_ => random.Next())) + "}";
        }
    }

    // ------------------------------------------------------------------ the server and the client

    /// <summary>An MCP server in this process, guarded by a policy, with a raw line client on pipes.</summary>
    internal sealed class FuzzServer : IAsyncDisposable
    {
        private readonly IHost _host;
        private readonly Pipe _toServer;
        private readonly Pipe _toClient;
        private readonly ConcurrentDictionary<string, int> _runs = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<DecisionEvent> _decisions = new();
        private IReadOnlyDictionary<string, string>? _lastSeen;

        private FuzzServer(IHost host, Pipe toServer, Pipe toClient)
        {
            _host = host;
            _toServer = toServer;
            _toClient = toClient;
            Client = new LineClient(toServer.Writer, toClient.Reader);
        }

        public LineClient Client { get; }

        public static async Task<FuzzServer> StartAsync(string policy)
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
            builder.Services.AddPolicyEngine(o => o.Policy = Policy.Compile(PolicyDocument.Parse(policy)));
            FuzzServer? self = null;
            McpServerTool Counted(string name) => McpServerTool.Create(
                (RequestContext<CallToolRequestParams> context) =>
                {
                    self!._lastSeen = context.Params?.Arguments?.ToDictionary(a => a.Key, a => a.Value.GetRawText(), StringComparer.Ordinal)
                        ?? new Dictionary<string, string>();
                    self._runs.AddOrUpdate(name, 1, (_, n) => n + 1);
                    return "ran " + name;
                },
                new McpServerToolCreateOptions { Name = name });
            builder.Services
                .AddMcpServer(o => o.ServerInfo = new Implementation { Name = "fuzz", Version = "1.0" })
                .WithStreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream())
                .WithTools([Counted("transfer"), Counted("echo"), Counted("admin_reset")])
                .WithPolicyEngine();
            var host = builder.Build();
            self = new FuzzServer(host, toServer, toClient);
            host.Services.GetRequiredService<PolicyGuard>().Evaluator.DecisionMade += (_, e) => self._decisions.Enqueue(e);
            await host.StartAsync(Samples.Ct);
            await self.Client.InitializeAsync();
            return self;
        }

        private int Runs(string tool) => _runs.TryGetValue(tool, out var n) ? n : 0;

        private (int Total, DecisionEvent[] Decisions) Snapshot() => (_runs.Values.Sum(), _decisions.ToArray());

        /// <summary>Sends <c>tools/call</c> with <paramref name="parameters"/> as the exact <c>params</c> text; returns what went wrong, if anything.</summary>
        public async Task<string?> CheckAsync(string parameters, Expected expected)
        {
            var (runsBefore, decisionsBefore) = Snapshot();
            var perTool = new Dictionary<string, int>(_runs, StringComparer.Ordinal);
            _lastSeen = null;
            var (id, response) = await Client.CallRawAsync(parameters);
            if (response is null)
            {
                return $"no answer within {LineClient.Timeout.TotalSeconds} s";
            }

            var text = Encoding.UTF8.GetString(response);
            if (Describe(response, id, out var errorCode, out var message, out var isError) is { } malformed)
            {
                return malformed;
            }

            var decisions = _decisions.Skip(decisionsBefore.Length).ToArray();
            var ran = _runs.Where(r => r.Value != perTool.GetValueOrDefault(r.Key)).Select(r => r.Key).ToArray();
            var runs = _runs.Values.Sum() - runsBefore;
            var seen = string.Join(" | ", decisions.Select(d => $"{d.Tool[..Math.Min(d.Tool.Length, 40)]} {d.Decision.Kind} {d.Decision.Rule} [{string.Join(",", d.ArgumentNames.Select(n => Shorten(n, 40)))}]"));
            string? problem = null;
            for (var option = expected; option is not null; option = option.Or)
            {
                problem = Judge(option);
                if (problem is null)
                {
                    break;
                }
            }

            return problem is null ? await StillServesAsync() : $"{problem}: expected {expected}; got {Shorten(text)}; {runs} tool run(s) [{string.Join(",", ran)}]; decisions: {(seen.Length == 0 ? "none" : seen)}";

            string? Judge(Expected e) => e switch
            {
                { IsAnyRefusal: true } when runs != 0 || decisions.Any(d => d.Decision.Kind == DecisionKind.Allow) => "a call that must be refused ran",
                { IsAnyRefusal: true } when errorCode is null && !isError => "a refused call answered as a success",
                { IsAnyRefusal: true } => null,
                _ when runs != (e.Runs is null ? 0 : 1) || (e.Runs is { } tool && !ran.SequenceEqual([tool])) => "wrong tool runs",
                { ErrorCode: { } code } when errorCode != code || !message!.Contains(e.ErrorText!, StringComparison.OrdinalIgnoreCase) => "wrong answer",
                { ErrorCode: null } when errorCode is not null || isError != (e.Runs is null) => "wrong answer",
                { ErrorCode: null, ErrorText: { } part } when !message!.Contains(part, StringComparison.Ordinal) => "wrong answer",
                { DecisionTool: null } when decisions.Length != 0 => "a decision for a call that never reached the policy",
                { DecisionTool: { } tool } when decisions.Length != 1 || decisions[0].Tool != tool || decisions[0].Decision.Kind != e.Kind => "wrong decision",
                { Rule: { } rule } when decisions[0].Decision.Rule != rule => "wrong rule",
                { ArgumentNames: { } names } when !decisions[0].ArgumentNames.SequenceEqual(names) => "wrong argument names in the decision event",
                { Runs: not null, ToolSees: { } sees } when !SameArguments(sees, _lastSeen) =>
                    $"the tool saw other arguments than the policy checked ({string.Join(",", _lastSeen?.Select(a => Shorten(a.Key, 40) + "=" + Shorten(a.Value, 80)) ?? [])})",
                _ => null,
            };
        }

        /// <summary>
        /// Sends one raw line and an ordinary call behind it. The line may be refused or, when the SDK makes a call of it,
        /// decided; it must never run a tool the policy did not allow, any answer to it must be well-formed, and the
        /// ordinary call must work.
        /// </summary>
        public async Task<string?> CheckRawLineAsync(byte[] line, bool answered)
        {
            var (runsBefore, decisionsBefore) = Snapshot();
            var transfers = Runs("transfer");
            var text = Encoding.UTF8.GetString(line);
            var at = text.IndexOf("\"id\":", StringComparison.Ordinal);
            int? hostileId = at >= 0 ? int.Parse(text.AsSpan(at + 5, 4), CultureInfo.InvariantCulture) : null;
            var probeId = Client.NextId();
            var probe = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":" + probeId + ",\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{}}}");
            int[] awaited = answered ? [hostileId!.Value, probeId] : [probeId];
            var answers = await Client.SendLinesAsync([line, probe], awaited);
            if (answers is null)
            {
                return $"no answer to {(answered ? "the line or " : string.Empty)}an ordinary call behind it within {LineClient.Timeout.TotalSeconds} s";
            }

            foreach (var (answerId, answer) in answers)
            {
                if (Describe(answer, answerId, out _, out _, out _) is { } problem)
                {
                    return problem;
                }

                if (answerId != probeId && answerId != hostileId)
                {
                    return "an answer to no request of this test: " + Shorten(Encoding.UTF8.GetString(answer));
                }
            }

            var decisions = _decisions.Skip(decisionsBefore.Length).ToArray();
            var transferAllowed = decisions.Count(d => d.Tool == "transfer" && d.Decision.Kind == DecisionKind.Allow);
            var ran = Runs("transfer") - transfers;
            if (_runs.Values.Sum() - runsBefore != 1 + ran || ran != transferAllowed || decisions.Count(d => d.Tool == "echo" && d.Decision.Kind == DecisionKind.Allow) != 1
                || decisions.Any(d => d.Tool is not ("echo" or "transfer")))
            {
                return $"{ran} transfer run(s), {_runs.Values.Sum() - runsBefore} in all, and decisions [{string.Join(", ", decisions.Select(d => d.Tool + " " + d.Decision.Kind))}] for a hostile line and one echo";
            }

            return await StillServesAsync();
        }

        /// <summary>An ordinary call right after: the server answers it correctly, and nothing else.</summary>
        private async Task<string?> StillServesAsync()
        {
            var (runsBefore, decisionsBefore) = Snapshot();
            var echoes = Runs("echo");
            var (id, response) = await Client.CallRawAsync("""{"name":"echo","arguments":{"message":"still there?"}}""");
            if (response is null)
            {
                return $"the server stopped answering: no answer to an ordinary call within {LineClient.Timeout.TotalSeconds} s";
            }

            var decisions = _decisions.Skip(decisionsBefore.Length).ToArray();
            if (Describe(response, id, out var code, out var message, out var isError) is { } problem || code is not null || isError || message != "ran echo"
                || Runs("echo") != echoes + 1 || _runs.Values.Sum() != runsBefore + 1 || decisions.Length != 1 || decisions[0].Decision.Kind != DecisionKind.Allow)
            {
                return "an ordinary call went wrong afterwards: " + Shorten(Encoding.UTF8.GetString(response));
            }

            return null;
        }

        /// <summary>Checks a response line is one well-formed JSON-RPC response to <paramref name="id"/>; returns the problem, if any.</summary>
        private static string? Describe(byte[] line, int? id, out int? errorCode, out string? message, out bool isError)
        {
            errorCode = null;
            message = null;
            isError = false;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException ex)
            {
                return "the response is not JSON: " + ex.Message;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object
                    || !root.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0"
                    || !root.TryGetProperty("id", out var gotId) || (id is { } want ? gotId.ValueKind != JsonValueKind.Number || gotId.GetInt32() != want : gotId.ValueKind != JsonValueKind.Null))
                {
                    return "not a JSON-RPC 2.0 response to this request: " + Shorten(Encoding.UTF8.GetString(line));
                }

                var hasResult = root.TryGetProperty("result", out var result);
                var hasError = root.TryGetProperty("error", out var error);
                if (hasResult == hasError)
                {
                    return "a response needs exactly one of result and error: " + Shorten(Encoding.UTF8.GetString(line));
                }

                if (hasError)
                {
                    if (error.ValueKind != JsonValueKind.Object || !error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number
                        || !code.TryGetInt32(out var value) || !error.TryGetProperty("message", out var text) || text.ValueKind != JsonValueKind.String)
                    {
                        return "a malformed error object: " + Shorten(Encoding.UTF8.GetString(line));
                    }

                    errorCode = value;
                    message = text.GetString();
                    return null;
                }

                if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Array
                    || content.GetArrayLength() != 1 || content[0].ValueKind != JsonValueKind.Object
                    || !content[0].TryGetProperty("text", out var first) || first.ValueKind != JsonValueKind.String)
                {
                    return "a malformed tools/call result: " + Shorten(Encoding.UTF8.GetString(line));
                }

                message = first.GetString();
                isError = result.TryGetProperty("isError", out var flag) && flag.ValueKind == JsonValueKind.True;
                return null;
            }
        }

        private static bool SameArguments(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string>? seen)
        {
            if (seen is null || seen.Count != expected.Count)
            {
                return false;
            }

            foreach (var (name, raw) in expected)
            {
                if (!seen.TryGetValue(name, out var got))
                {
                    return false;
                }

                using var a = JsonDocument.Parse(raw);
                using var b = JsonDocument.Parse(got);
                if (!Same(a.RootElement, b.RootElement))
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// The same JSON value, member order and duplicates included; strings by their text (the SDK re-escapes them),
        /// numbers by their spelling (it copies them as written). JsonElement.DeepEquals throws on 1e-99999999999999999999.
        /// </summary>
        private static bool Same(JsonElement a, JsonElement b) => a.ValueKind == b.ValueKind && a.ValueKind switch
        {
            JsonValueKind.String => a.GetString() == b.GetString(),
            JsonValueKind.Number => a.GetRawText() == b.GetRawText(),
            JsonValueKind.Array => a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Same(p.First, p.Second)),
            JsonValueKind.Object => a.EnumerateObject().Count() == b.EnumerateObject().Count()
                && a.EnumerateObject().Zip(b.EnumerateObject()).All(p => p.First.Name == p.Second.Name && Same(p.First.Value, p.Second.Value)),
            _ => true,
        };

        private static string Shorten(string text, int length = 400)
        {
            if (text.Length <= length)
            {
                return text;
            }

            var cut = length * 3 / 4;
            cut -= char.IsHighSurrogate(text[cut - 1]) ? 1 : 0; // never split a pair into two lone surrogates
            return text[..cut] + $"…({text.Length} chars)";
        }

        public async ValueTask DisposeAsync()
        {
            await _toServer.Writer.CompleteAsync();
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
            await _toClient.Reader.CompleteAsync();
        }
    }

    /// <summary>Newline-delimited JSON-RPC with exact bytes out, whole response lines (bytes) in.</summary>
    internal sealed class LineClient(PipeWriter writer, PipeReader reader)
    {
        /// <summary>How long any request may wait for its answer: longer means the server hangs.</summary>
        public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

        private int _nextId = 100;

        public int NextId() => Interlocked.Increment(ref _nextId);

        public async Task InitializeAsync()
        {
            var id = NextId();
            var answers = await SendLinesAsync(
                [Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"fuzz\",\"version\":\"1\"}}}")],
                [id]);
            Assert.NotNull(answers);
            await SendLinesAsync(["{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}"u8.ToArray()], []);
        }

        /// <summary>Sends <c>tools/call</c> with <paramref name="parameters"/> as the exact text of <c>params</c>.</summary>
        public async Task<(int Id, byte[]? Response)> CallRawAsync(string parameters)
        {
            var id = NextId();
            var request = "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"method\":\"tools/call\",\"params\":" + parameters + "}";
            var answers = await SendLinesAsync([Encoding.UTF8.GetBytes(request)], [id]);
            return (id, answers?.Single(a => a.Id == id).Line);
        }

        /// <summary>
        /// Writes the lines; returns the responses to the ids in <paramref name="ids"/> (and any other response read
        /// meanwhile), or <see langword="null"/> when one of them does not come within <see cref="Timeout"/>. Lines the
        /// server sends on its own (notifications, requests) are skipped.
        /// </summary>
        public async Task<List<(int? Id, byte[] Line)>?> SendLinesAsync(byte[][] lines, int[] ids)
        {
            foreach (var line in lines)
            {
                await writer.WriteAsync(line, Samples.Ct);
                await writer.WriteAsync("\n"u8.ToArray(), Samples.Ct);
            }

            await writer.FlushAsync(Samples.Ct);
            var waiting = new HashSet<int>(ids);
            var answers = new List<(int?, byte[])>();
            if (waiting.Count == 0)
            {
                return answers;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Samples.Ct);
            timeout.CancelAfter(Timeout);
            try
            {
                while (await ReadLineAsync(timeout.Token) is { } next)
                {
                    using var document = JsonDocument.Parse(next);
                    if (document.RootElement.TryGetProperty("method", out _))
                    {
                        continue;
                    }

                    int? id = document.RootElement.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number ? got.GetInt32() : null;
                    answers.Add((id, next));
                    if (id is { } known && waiting.Remove(known) && waiting.Count == 0)
                    {
                        return answers;
                    }
                }

                return null;
            }
            catch (OperationCanceledException) when (!Samples.Ct.IsCancellationRequested)
            {
                return null;
            }
        }

        private async Task<byte[]?> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (buffer.PositionOf((byte)'\n') is { } end)
                {
                    var line = buffer.Slice(0, end).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(1, end));
                    return line;
                }

                if (result.IsCompleted)
                {
                    reader.AdvanceTo(buffer.End);
                    return null;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }
}
