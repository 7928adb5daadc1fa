using System.CommandLine;

namespace PolicyEngine.Cli;

/// <summary>Options several commands share, built alike so that their help and errors read alike.</summary>
internal static class CliOptions
{
    /// <summary><c>--format json|intercept</c>: how a policy file is read.</summary>
    public static Option<string> Format()
    {
        var option = new Option<string>("--format")
        {
            Description = "How the policy file is read: json (a version 1 or 2 document) or intercept (Intercept YAML, imported)",
            HelpName = "json|intercept",
            DefaultValueFactory = _ => "json",
        };
        option.AcceptOnlyFromAmong(PolicySource.Formats);
        return option;
    }

    /// <summary><c>--policy FILE</c>, required.</summary>
    public static Option<string> Policy() => new("--policy")
    {
        Description = "The policy file",
        HelpName = "FILE",
        Required = true,
    };

    /// <summary>A required positional file argument.</summary>
    public static Argument<string> File(string name, string description) => RejectOptionLikeValues(new Argument<string>(name)
    {
        Description = description,
    });

    /// <summary>
    /// Makes a value that looks like an option (<c>--help-me</c>, <c>-x</c>) an error instead of a file name: an
    /// unknown option is a usage error. A file whose name starts with <c>-</c> can still be given after <c>--</c>,
    /// or as <c>./-name</c>.
    /// </summary>
    public static Argument<T> RejectOptionLikeValues<T>(Argument<T> argument)
    {
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-')
                {
                    result.AddError($"unknown option \"{token.Value}\"");
                }
            }
        });
        return argument;
    }
}
