using System.CommandLine;
using System.Text.Json;
using PolicyEngine.Redis;
using PolicyEngine.Sqlite;

namespace PolicyEngine.Cli;

/// <summary>
/// <c>policyengine approvals list|approve|deny --store STORE</c>: the approval queue for operators without the web page.
/// <c>list</c> prints one request per line as JSON (never argument values beyond the policy's preview); <c>approve</c>
/// and <c>deny</c> act as <c>--as ID</c> (with <c>--role</c>s), checked against the policy's <c>approvers</c> like any
/// approver: exit 0 when the vote was taken, 1 when it was refused (not an approver, the caller itself, already
/// decided, expired, policy changed), 2 for a usage error or a store that cannot be opened.
/// </summary>
internal sealed class ApprovalsCommand : ICliCommand
{
    public Command Create(CliContext cli)
    {
        var command = new Command("approvals", "List, approve or deny the calls waiting in an approval queue (SQLite file or Redis)");
        command.Subcommands.Add(List(cli));
        command.Subcommands.Add(Vote(cli, "approve", "Approve a waiting call as an approver of the policy (exit 1 when refused)"));
        command.Subcommands.Add(Vote(cli, "deny", "Deny a waiting call as an approver of the policy (exit 1 when refused)"));
        return command;
    }

    private static Option<string> Store() => new("--store")
    {
        Description = "The approval queue: sqlite:FILE (or a plain FILE) as policyengine-proxy --approvals writes, or redis:CONFIGURATION (a StackExchange.Redis configuration string such as redis:127.0.0.1:6379)",
        HelpName = "STORE",
        Required = true,
    };

    private static Option<string> Prefix() => new("--redis-prefix")
    {
        Description = "The Redis key prefix of the queue (default {policyengine}:)",
        HelpName = "PREFIX",
        DefaultValueFactory = _ => "{policyengine}:",
    };

    private static Command List(CliContext cli)
    {
        var store = Store();
        var prefix = Prefix();
        var status = new Option<string>("--status") { Description = "Which requests: pending (default), approved, denied, expired, consumed or all", HelpName = "STATUS", DefaultValueFactory = _ => "pending" };
        status.AcceptOnlyFromAmong("pending", "approved", "denied", "expired", "consumed", "all");
        var tool = new Option<string?>("--tool") { Description = "Only requests for this tool", HelpName = "TOOL" };
        var identity = new Option<string?>("--identity") { Description = "Only requests made by this identity id", HelpName = "ID" };
        var offset = new Option<int>("--offset") { Description = "How many matching requests to skip (newest first)", HelpName = "N" };
        var limit = new Option<int>("--limit") { Description = $"How many to print (1 to {ApprovalQuery.MaxLimit}, default 50)", HelpName = "N", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "Print the requests in the queue, newest first, one JSON object per line") { store, prefix, status, tool, identity, offset, limit };
        cli.SetAction(command, async parseResult =>
        {
            var statusName = parseResult.GetValue(status)!;
            var query = new ApprovalQuery
            {
                Status = statusName == "all" ? null : Enum.Parse<ApprovalStatus>(statusName, ignoreCase: true),
                Tool = parseResult.GetValue(tool),
                IdentityId = parseResult.GetValue(identity),
                Offset = parseResult.GetValue(offset),
                Limit = parseResult.GetValue(limit),
            };
            return await RunAsync(cli, parseResult.GetValue(store)!, parseResult.GetValue(prefix)!, async queue =>
            {
                if (query.Offset < 0 || query.Limit is < 1 or > ApprovalQuery.MaxLimit)
                {
                    throw new UsageException($"--offset must not be negative and --limit must be between 1 and {ApprovalQuery.MaxLimit}");
                }

                foreach (var request in await queue.ListAsync(query, DateTimeOffset.UtcNow).ConfigureAwait(false))
                {
                    await cli.Stdout.WriteLineAsync(request.ToJson()).ConfigureAwait(false);
                }

                return ExitCodes.Ok;
            }).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Vote(CliContext cli, string name, string description)
    {
        var id = CliOptions.RejectOptionLikeValues(new Argument<string>("ID") { Description = "The request id (from approvals list, the page, or the agent's answer)" });
        var store = Store();
        var prefix = Prefix();
        var policy = CliOptions.Policy();
        policy.Description = "The policy in force (its approvers decide who may vote; a request made under another policy version is refused)";
        var format = CliOptions.Format();
        var approver = new Option<string>("--as") { Description = "The approver's identity id (never the caller's: nobody approves their own call)", HelpName = "ID", Required = true };
        var roles = new Option<string[]>("--role") { Description = "A role of the approver (repeat for several), read by the policy as identity.roles", HelpName = "ROLE", AllowMultipleArgumentsPerToken = false };
        var comment = new Option<string?>("--comment") { Description = "A comment kept with the vote", HelpName = "TEXT" };
        var command = new Command(name, description) { id, store, prefix, policy, format, approver, roles, comment };
        cli.SetAction(command, async parseResult =>
        {
            var document = PolicySource.Read(parseResult.GetValue(policy)!, parseResult.GetValue(format), out var errors);
            if (document is null)
            {
                foreach (var error in errors)
                {
                    await cli.Stderr.WriteLineAsync($"policyengine approvals: invalid policy at {(error.Pointer.Length == 0 ? "(root)" : error.Pointer)}: {error.Message}").ConfigureAwait(false);
                }

                return ExitCodes.UsageError;
            }

            var who = parseResult.GetValue(approver)!;
            var identity = parseResult.GetValue(roles) is { Length: > 0 } given ? PolicyIdentity.WithRoles(who, given) : new PolicyIdentity(who);
            return await RunAsync(cli, parseResult.GetValue(store)!, parseResult.GetValue(prefix)!, async queue =>
            {
                var evaluator = new PolicyEvaluator(Policy.Compile(document), approvalStore: queue);
                var requestId = parseResult.GetValue(id)!;
                var result = name == "approve"
                    ? await evaluator.ApproveAsync(requestId, identity, parseResult.GetValue(comment)).ConfigureAwait(false)
                    : await evaluator.DenyAsync(requestId, identity, parseResult.GetValue(comment)).ConfigureAwait(false);
                await cli.Stdout.WriteLineAsync(Describe(result)).ConfigureAwait(false);
                return result.Succeeded ? ExitCodes.Ok : ExitCodes.Failure;
            }).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary><c>{"outcome": "approved", "request": {...}}</c>, with a message for a refusal.</summary>
    private static string Describe(ApprovalResult result)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("outcome", JsonNamingPolicy.SnakeCaseLower.ConvertName(result.Outcome.ToString()));
            if (!result.Succeeded)
            {
                writer.WriteString("message", result.Outcome switch
                {
                    ApprovalOutcome.NotFound => "no request has this id",
                    ApprovalOutcome.SelfApproval => "the approver made this call: nobody approves their own call",
                    ApprovalOutcome.NotAuthorized => "the approver does not satisfy the rule's approvers (or the rule names none)",
                    ApprovalOutcome.AlreadyVoted => "the approver already voted on this request",
                    ApprovalOutcome.Expired => "the request expired before it was decided",
                    ApprovalOutcome.PolicyChanged => "the request was made under another policy version: the agent must call again",
                    _ => "the request was already decided",
                });
            }

            if (result.Request is { } request)
            {
                writer.WritePropertyName("request");
                request.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static async Task<int> RunAsync(CliContext cli, string store, string prefix, Func<IApprovalQueue, Task<int>> action)
    {
        StackExchange.Redis.ConnectionMultiplexer? redis = null;
        try
        {
            IApprovalQueue queue;
            if (store.StartsWith("redis:", StringComparison.Ordinal))
            {
                redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(store["redis:".Length..]).ConfigureAwait(false);
                queue = new RedisApprovalStore(redis, new RedisApprovalStoreOptions { KeyPrefix = prefix });
            }
            else
            {
                var path = store.StartsWith("sqlite:", StringComparison.Ordinal) ? store["sqlite:".Length..] : store;
                if (!File.Exists(path))
                {
                    throw new UsageException($"cannot read \"{path}\": no such file");
                }

                queue = new SqliteApprovalStore(path);
            }

            return await action(queue).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UsageException or IOException or UnauthorizedAccessException or ArgumentException or FormatException
            or Microsoft.Data.Sqlite.SqliteException or StackExchange.Redis.RedisException or TimeoutException)
        {
            await cli.Stderr.WriteLineAsync("policyengine approvals: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.UsageError;
        }
        finally
        {
            if (redis is not null)
            {
                await redis.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
