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

    /// <summary>The SQLite file of the approval queue (<c>--approvals</c>), shared with <c>policyengine approvals</c>; in memory when unset.</summary>
    public string? Approvals { get; init; }

    /// <summary>How a call that needs approval waits when its rule says nothing (<c>--approval-wait</c>).</summary>
    public ApprovalWaitMode ApprovalWait { get; init; } = ApprovalWaitMode.Auto;

    /// <summary>How long a held call waits for approvers (<c>--approval-hold</c>, in seconds).</summary>
    public TimeSpan ApprovalHold { get; init; } = TimeSpan.FromMinutes(2);

    public const string Name = "policyengine-proxy";

    public const string Usage = $"usage: {Name} --policy FILE [--format json|intercept] [--identity ID] [--audit FILE] [--shadow FILE] [--approvals FILE] [--approval-wait auto|return|hold|elicit] [--approval-hold SECONDS] -- COMMAND [ARGS...]";

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
        var approvals = new Option<string?>("--approvals")
        {
            Description = "Keep the approval queue in this SQLite file, where 'policyengine approvals list|approve|deny --store FILE' reads it (default: in memory, so only elicitation can approve)",
            HelpName = "FILE",
        };
        var approvalWait = new Option<string>("--approval-wait")
        {
            Description = "How a call that needs approval waits when its rule sets no \"wait\": auto (elicitation without approvers, return with them), return (answer at once with the request id), hold (keep the call open with progress notifications), elicit (ask the calling user; never for a rule with approvers)",
            HelpName = "auto|return|hold|elicit",
            DefaultValueFactory = _ => "auto",
        };
        approvalWait.AcceptOnlyFromAmong("auto", "return", "hold", "elicit");
        var approvalHold = new Option<int>("--approval-hold")
        {
            Description = "How long a held call waits for approvers, in seconds (default 120)",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 120,
        };
        approvalHold.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError("--approval-hold must be between 1 and 3600 seconds");
            }
        });
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
            approvals,
            approvalWait,
            approvalHold,
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
            Approvals = parsed.GetValue(approvals),
            ApprovalWait = parsed.GetValue(approvalWait) switch
            {
                "return" => ApprovalWaitMode.Return,
                "hold" => ApprovalWaitMode.Hold,
                "elicit" => ApprovalWaitMode.Elicit,
                _ => ApprovalWaitMode.Auto,
            },
            ApprovalHold = TimeSpan.FromSeconds(parsed.GetValue(approvalHold)),
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
