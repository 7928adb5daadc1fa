using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Reflection;

namespace PolicyEngine.GuardProxy;

/// <summary>
/// <c>policyengine-proxy --policy FILE [--format json|intercept] [--identity ID] [--audit FILE] [--shadow FILE] [--list-never-allowed] -- COMMAND [ARGS...]</c>,
/// parsed with System.CommandLine (<c>--help</c>, <c>--version</c>). Everything after the first <c>--</c> is the
/// upstream server's command line, passed on untouched.
/// </summary>
internal sealed record ProxyArguments(string Policy, string Format, string? Identity, bool ListNeverAllowed, string Command, IReadOnlyList<string> CommandArguments)
{
    /// <summary>The audit trail file (<c>--audit</c>), if any.</summary>
    public string? Audit { get; init; }

    /// <summary>The shadow candidate policy (<c>--shadow</c>, same format as the policy), if any.</summary>
    public string? Shadow { get; init; }

    public const string Name = "policyengine-proxy";

    public const string Usage = $"usage: {Name} --policy FILE [--format json|intercept] [--identity ID] [--audit FILE] [--shadow FILE] -- COMMAND [ARGS...]";

    /// <summary>The tool's version (the package version).</summary>
    public static string Version { get; } =
        typeof(ProxyArguments).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// Parses the command line. Returns the arguments to run with, or <see langword="null"/> and the exit code when
    /// the run ends here: 0 after <c>--help</c> or <c>--version</c>, 2 after a usage error (printed on
    /// <paramref name="stderr"/>).
    /// </summary>
    public static ProxyArguments? Parse(string[] args, TextWriter stdout, TextWriter stderr, out int exitCode)
    {
        var separator = Array.IndexOf(args, "--");
        var own = separator < 0 ? args : args[..separator];
        var upstream = separator < 0 ? [] : args[(separator + 1)..];

        var policy = new Option<string>("--policy") { Description = "The policy file (validated before the upstream starts; reloaded when it changes)", HelpName = "FILE", Required = true };
        var format = new Option<string>("--format") { Description = "How the policy file is read: json (a version 1 or 2 document) or intercept (Intercept YAML)", HelpName = "json|intercept", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "intercept");
        var identity = new Option<string?>("--identity") { Description = "The grant every call is evaluated and counted as (default: anonymous)", HelpName = "ID" };
        var audit = new Option<string?>("--audit")
        {
            Description = "Append every decision, approval step and policy load to this hash-chained JSON-lines audit file (rotated by size)",
            HelpName = "FILE",
        };
        var shadow = new Option<string?>("--shadow")
        {
            Description = "A candidate policy (same format) evaluated beside the enforced one on every call, never changing the outcome; disagreements are logged and audited",
            HelpName = "FILE",
        };
        var listNeverAllowed = new Option<bool>("--list-never-allowed")
        {
            Description = "Also list, in tools/list, the tools the policy never allows this identity (default: left out; calling one still gets its denial)",
        };
        var command = new Argument<string[]>("COMMAND")
        {
            Description = "After '--': the upstream MCP server's command and arguments, started as a child process speaking MCP over stdio " +
                "(for example -- npx -y @modelcontextprotocol/server-filesystem /workspace)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var root = new Command(
            Name,
            "A stdio MCP proxy that puts a PolicyEngine policy in front of any MCP server: tools/call is guarded, tools/list " +
            "filtered, everything else relayed. Exit codes: 0 after the client disconnects, 1 an invalid policy or an upstream " +
            "that cannot start (nothing is served unguarded), 2 a usage error.")
        {
            new HelpOption(),
            new VersionOption { Action = new PrintVersion(stdout) },
            policy,
            format,
            identity,
            audit,
            shadow,
            listNeverAllowed,
            command,
        };

        var parsed = root.Parse(own);
        if (parsed.Action is HelpAction or PrintVersion)
        {
            exitCode = parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
            return null;
        }

        var problems = parsed.Errors.Select(e => e.Message).ToList();
        if (parsed.GetValue(command) is { Length: > 0 } stray)
        {
            problems.Add(stray[0].StartsWith('-')
                ? $"unknown option '{stray[0]}' (the upstream server's command and its options follow '--')"
                : $"unexpected argument '{stray[0]}': the upstream server's command follows '--'");
        }
        else if (separator < 0 || upstream.Length == 0)
        {
            problems.Add("the upstream server's command is missing: give it after '--', as in -- npx -y @modelcontextprotocol/server-everything");
        }

        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                stderr.WriteLine($"{Name}: {string.Join(' ', problem.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
            }

            stderr.WriteLine($"Run '{Name} --help' for usage.");
            exitCode = 2;
            return null;
        }

        exitCode = 0;
        return new ProxyArguments(
            parsed.GetValue(policy)!,
            parsed.GetValue(format)!,
            parsed.GetValue(identity),
            parsed.GetValue(listNeverAllowed),
            upstream[0],
            upstream[1..])
        {
            Audit = parsed.GetValue(audit),
            Shadow = parsed.GetValue(shadow),
        };
    }

    private sealed class PrintVersion(TextWriter stdout) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            stdout.WriteLine(Version);
            return 0;
        }
    }
}
