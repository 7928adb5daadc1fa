namespace PolicyEngine.GuardProxy;

/// <summary>
/// <c>GuardProxy --policy FILE [--format json|intercept] [--identity ID] -- COMMAND [ARGS...]</c>
/// </summary>
internal sealed record ProxyArguments(string Policy, string Format, string? Identity, string Command, IReadOnlyList<string> CommandArguments)
{
    public const string Usage = "usage: GuardProxy --policy FILE [--format json|intercept] [--identity ID] -- COMMAND [ARGS...]";

    public static ProxyArguments Parse(IReadOnlyList<string> args)
    {
        string? policy = null, format = null, identity = null;
        var i = 0;
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }

            switch (arg)
            {
                case "--policy":
                    policy = Value(args, ref i, arg);
                    break;
                case "--format":
                    format = Value(args, ref i, arg);
                    if (format is not ("json" or "intercept"))
                    {
                        throw new ArgumentException($"--format must be 'json' or 'intercept', not '{format}'");
                    }

                    break;
                case "--identity":
                    identity = Value(args, ref i, arg);
                    break;
                default:
                    throw new ArgumentException($"unknown option '{arg}' (the upstream command follows '--')");
            }
        }

        if (policy is null)
        {
            throw new ArgumentException("--policy FILE is required");
        }

        if (i >= args.Count)
        {
            throw new ArgumentException("the upstream server's command is missing after '--'");
        }

        return new ProxyArguments(policy, format ?? "json", identity, args[i], [.. args.Skip(i + 1)]);
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count || args[i + 1] == "--" || args[i + 1].Length == 0)
        {
            throw new ArgumentException($"{option} needs a value");
        }

        return args[++i];
    }
}
