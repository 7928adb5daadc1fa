using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PolicyEngine.Decisions;

namespace PolicyEngine.Cli;

/// <summary>
/// The starter policy <c>init</c> writes for a server's tools: <c>default: deny</c>, every listed tool present with a
/// <c>description</c> saying why it is treated so. Read-only tools are allowed; destructive ones need a person's
/// approval; open-world and code-running ones (by annotation, or by words such as execute, run, eval, shell, python,
/// sql in the name or description) are limited to 10 calls per minute per grant.
/// </summary>
/// <remarks>
/// Hints a server leaves out take MCP's defaults where they matter for safety: a tool that does not say
/// <c>readOnlyHint: true</c> is assumed destructive unless it says <c>destructiveHint: false</c>. A tool with no
/// annotations at all needs approval unless its name or description says it runs code, in which case it is only
/// rate-limited (PolicyLayer's recommendation for <c>execute_python_code</c>). <c>openWorldHint</c> counts only when
/// given.
/// </remarks>
internal static class StarterPolicy
{
    public const int CallsPerMinute = 10;

    private static readonly string[] CodeWords =
        ["execute", "executes", "exec", "run", "runs", "eval", "evaluate", "shell", "python", "sql", "bash", "script", "scripts", "command", "commands"];

    private static readonly string[] DestructiveWords =
        ["delete", "remove", "drop", "kill", "destroy", "erase", "wipe", "truncate", "overwrite", "purge", "reset", "terminate", "uninstall"];

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>How one tool is treated, and why.</summary>
    internal sealed record Plan(ServerTool Tool, bool Approval, bool Limited, string Description)
    {
        public string Verdict => (Approval, Limited) switch
        {
            (true, true) => "approval, 10/min",
            (true, false) => "approval",
            (false, true) => "allowed, 10/min",
            _ => "allowed",
        };
    }

    /// <summary>Decides how each tool is treated.</summary>
    public static Plan Classify(ServerTool tool)
    {
        var code = Words(tool, CodeWords);
        var readOnly = tool.ReadOnlyHint == true;
        bool approval;
        string why;
        if (!tool.Annotations)
        {
            var destructiveWords = Words(tool, DestructiveWords);
            approval = code.Count == 0 || destructiveWords.Count > 0;
            why = approval
                ? destructiveWords.Count > 0
                    ? $"the server gives no annotations and its name or description uses {Listed(destructiveWords)}"
                    : "the server gives no annotations, and MCP assumes a tool may be destructive unless it says otherwise; review it and loosen this entry"
                : "the server gives no annotations";
        }
        else if (readOnly)
        {
            approval = false;
            why = "the server annotates it read-only (readOnlyHint)";
        }
        else if (tool.DestructiveHint != false)
        {
            approval = true;
            why = tool.DestructiveHint == true
                ? "the server annotates it destructive (destructiveHint)"
                : "the server does not annotate it read-only or non-destructive, and MCP assumes such a tool may be destructive";
        }
        else
        {
            approval = false;
            why = "the server annotates it as changing state without destroying anything (readOnlyHint: false, destructiveHint: false)";
        }

        var openWorld = tool.OpenWorldHint == true;
        var limited = openWorld || code.Count > 0;
        var limitWhy = (openWorld, code.Count > 0) switch
        {
            (true, true) => $"it is open-world (openWorldHint) and its name or description uses {Listed(code)}, so it likely runs code",
            (true, false) => "it is open-world (openWorldHint: it reaches outside the server)",
            (false, true) => $"its name or description uses {Listed(code)}, so it likely runs code",
            _ => null,
        };

        var text = (approval, limited) switch
        {
            (true, true) => $"Each call needs a person's approval, because {why}; and at most {CallsPerMinute} calls per minute per grant, because {limitWhy}.",
            (true, false) => $"Each call needs a person's approval, because {why}.",
            (false, true) => $"Allowed, at most {CallsPerMinute} calls per minute per grant{(code.Count > 0 ? " (PolicyLayer's recommendation for code-running tools)" : string.Empty)}, because {limitWhy}{(readOnly ? "; the server annotates it read-only" : string.Empty)}.",
            _ => $"Allowed, because {why}.",
        };
        return new Plan(tool, approval, limited, text);
    }

    /// <summary>The tools a version 2 document can list: named, no glob characters, no lone surrogates, each once.</summary>
    public static IReadOnlyList<ServerTool> Listable(IEnumerable<ServerTool> tools, TextWriter stderr)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var listable = new List<ServerTool>();
        foreach (var tool in tools)
        {
            if (string.IsNullOrEmpty(tool.Name) || tool.Name.AsSpan().IndexOfAny('*', '?') >= 0 || !IsWellFormed(tool.Name))
            {
                stderr.WriteLine($"policyengine init: skipped the tool {JsonSerializer.Serialize(tool.Name)}: its name cannot be a tools key (empty, a glob character, or a lone surrogate); default deny covers it");
                continue;
            }

            if (seen.Add(tool.Name))
            {
                listable.Add(tool);
            }
        }

        return listable;
    }

    /// <summary>The version 2 JSON document.</summary>
    public static string ToJson(IReadOnlyList<ServerTool> tools, string server)
    {
        var plans = tools.Select(Classify).ToList();
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, Indented))
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://policyengine.dev/schemas/policy-v2.schema.json");
            w.WriteString("version", "2");
            w.WriteString("description", RootDescription(plans, server, intercept: false));
            w.WriteString("default", "deny");
            w.WriteStartObject("tools");
            foreach (var plan in plans)
            {
                var name = plan.Tool.Name;
                w.WriteStartObject(name);
                w.WriteString("description", plan.Description);
                if (plan.Limited)
                {
                    w.WriteStartArray("limits");
                    w.WriteStartObject();
                    w.WriteString("counter", name + "_per_minute");
                    w.WriteString("window", "minute");
                    w.WriteNumber("max", CallsPerMinute);
                    w.WriteString("scope", "grant");
                    w.WriteString("on_deny", $"{name} runs at most {CallsPerMinute} times per minute per grant");
                    w.WriteEndObject();
                    w.WriteEndArray();
                }

                if (plan.Approval)
                {
                    w.WriteStartObject("approval");
                    w.WriteString("reason", $"{name} may change or destroy data: a person approves each call");
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    /// <summary>
    /// An Intercept YAML policy. Intercept has no approvals, so a tool that needs one here is denied there (with a
    /// comment saying so) until someone reviews it; its rate limits count per proxy unless imported per identity.
    /// </summary>
    public static string ToIntercept(IReadOnlyList<ServerTool> tools, string server)
    {
        var plans = tools.Select(Classify).ToList();
        var yaml = new StringBuilder();
        yaml.Append("# Starter policy generated by `policyengine init` from ").Append(OneLine(server)).Append('\n');
        yaml.Append("# Read-only tools are allowed; open-world and code-running ones limited to ").Append(CallsPerMinute).Append(" calls a minute;\n");
        yaml.Append("# Intercept has no approvals, so tools that need a person's approval are denied until you review them.\n");
        yaml.Append("# Intercept counts rate limits for the whole proxy; import with --per-identity to count per caller.\n");
        yaml.Append("version: \"1\"\n");
        yaml.Append("description: ").Append(Quoted(RootDescription(plans, server, intercept: true))).Append('\n');
        yaml.Append("default: \"deny\"\n");
        yaml.Append("tools:\n");
        foreach (var plan in plans)
        {
            var name = plan.Tool.Name;
            yaml.Append("  # ").Append(OneLine(name)).Append(": ").Append(OneLine(plan.Approval
                ? "denied here: " + plan.Description.Replace("Each call needs a person's approval", "it would need a person's approval", StringComparison.Ordinal)
                : plan.Description)).Append('\n');
            yaml.Append("  ").Append(Quoted(name)).Append(":\n");
            if (plan.Approval)
            {
                yaml.Append("    rules:\n");
                yaml.Append("      - name: ").Append(Quoted(name + " needs review")).Append('\n');
                yaml.Append("        action: \"deny\"\n");
                yaml.Append("        on_deny: ").Append(Quoted($"{name} may change or destroy data and needs a person's approval, which this proxy cannot ask for")).Append('\n');
            }
            else if (plan.Limited)
            {
                yaml.Append("    rules:\n");
                yaml.Append("      - name: ").Append(Quoted(name + " rate limit")).Append('\n');
                yaml.Append("        rate_limit: \"").Append(CallsPerMinute).Append("/minute\"\n");
            }
            else
            {
                yaml.Append("    rules: []\n");
            }
        }

        return yaml.ToString();
    }

    private static string RootDescription(List<Plan> plans, string server, bool intercept)
    {
        var approval = plans.Count(p => p.Approval);
        var limited = plans.Count(p => p.Limited && !p.Approval);
        var allowed = plans.Count - approval - limited;
        return intercept
            ? string.Create(
                CultureInfo.InvariantCulture,
                $"Starter policy generated by `policyengine init` from the tools/list of {server} ({plans.Count} tools): default deny; " +
                $"{allowed} allowed (annotated read-only or non-destructive), {limited} limited to {CallsPerMinute} calls per minute (open-world or code-running), " +
                $"{approval} denied until reviewed (possibly destructive; Intercept cannot ask for approval). Review each tool before enforcing this policy.")
            : string.Create(
                CultureInfo.InvariantCulture,
                $"Starter policy generated by `policyengine init` from the tools/list of {server} ({plans.Count} tools): default deny; " +
                $"{allowed} allowed (annotated read-only or non-destructive), {limited} allowed at most {CallsPerMinute} calls per minute per grant (open-world or code-running), " +
                $"{approval} need a person's approval per call (possibly destructive). Each entry's description says why; review them before enforcing this policy.");
    }

    /// <summary>The words of <paramref name="vocabulary"/> that appear as whole words in the tool's name or description.</summary>
    private static List<string> Words(ServerTool tool, string[] vocabulary)
    {
        var found = new List<string>();
        foreach (var word in Tokens(tool.Name).Concat(Tokens(tool.Description ?? string.Empty)))
        {
            if (Array.IndexOf(vocabulary, word) >= 0 && !found.Contains(word))
            {
                found.Add(word);
            }
        }

        return found;
    }

    /// <summary>Lowercase words: split at anything but letters and digits, and at lower-to-upper case changes.</summary>
    private static IEnumerable<string> Tokens(string text)
    {
        var word = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var boundary = !char.IsLetterOrDigit(c) || (char.IsUpper(c) && i > 0 && char.IsLower(text[i - 1]));
            if (boundary && word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }

            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
            }
        }

        if (word.Length > 0)
        {
            yield return word.ToString();
        }
    }

    private static string Listed(List<string> words) =>
        (words.Count == 1 ? "the word " : "the words ") + string.Join(", ", words.Select(w => "\"" + w + "\""));

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A YAML double-quoted scalar (JSON string escapes are a subset of YAML's).</summary>
    private static string Quoted(string text) =>
        JsonSerializer.Serialize(text, new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    private static string OneLine(string text)
    {
        var line = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            line.Append(char.IsControl(c) || c is '\u2028' or '\u2029' ? ' ' : c);
        }

        return line.ToString();
    }
}
