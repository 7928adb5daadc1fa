namespace PolicyEngine.Cli;

/// <summary>A command's positional arguments and <c>--option value</c> pairs.</summary>
internal sealed class CommandArguments
{
    private readonly Dictionary<string, string?> _options;

    private CommandArguments(List<string> positional, Dictionary<string, string?> options, List<string> rest)
    {
        Positional = positional;
        _options = options;
        Rest = rest;
    }

    public IReadOnlyList<string> Positional { get; }

    /// <summary>Everything after a <c>--</c> separator.</summary>
    public IReadOnlyList<string> Rest { get; }

    public string? Option(string name) => _options.TryGetValue(name, out var value) ? value : null;

    public bool Flag(string name) => _options.ContainsKey(name);

    public string RequirePositional(int index, string what) =>
        index < Positional.Count ? Positional[index] : throw new UsageException($"missing {what}");

    public static CommandArguments Parse(ReadOnlySpan<string> args, IReadOnlyDictionary<string, bool> known)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                rest.AddRange(args[(i + 1)..]);
                break;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var name = arg;
                string? value = null;
                var equals = arg.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    name = arg[..equals];
                    value = arg[(equals + 1)..];
                }

                if (!known.TryGetValue(name, out var takesValue))
                {
                    throw new UsageException($"unknown option \"{name}\"");
                }

                if (takesValue && value is null)
                {
                    if (i + 1 >= args.Length)
                    {
                        throw new UsageException($"the option \"{name}\" needs a value");
                    }

                    value = args[++i];
                }

                if (options.ContainsKey(name))
                {
                    throw new UsageException($"the option \"{name}\" is given twice");
                }

                options[name] = value;
                continue;
            }

            positional.Add(arg);
        }

        return new CommandArguments(positional, options, rest);
    }
}
