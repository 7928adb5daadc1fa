using System.ComponentModel;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace PolicyEngine.Samples.GuardedServer;

/// <summary>The sample's tools. The policy, not this code, decides who may call them and how often.</summary>
[McpServerToolType]
public sealed class SampleTools
{
    [McpServerTool(Name = "echo"), Description("Returns the message unchanged.")]
    public static string Echo([Description("The text to return")] string message) => message;

    [McpServerTool(Name = "list_notes"), Description("Lists the saved notes.")]
    public static string ListNotes(NoteStore notes) => notes.List();

    [McpServerTool(Name = "save_note"), Description("Saves a note under a name.")]
    public static string SaveNote(NoteStore notes, string name, string text)
    {
        notes.Save(name, text);
        return $"saved '{name}'";
    }

    [McpServerTool(Name = "delete_note", Destructive = true), Description("Deletes a note (a person must approve).")]
    public static string DeleteNote(NoteStore notes, string name) =>
        notes.Delete(name) ? $"deleted '{name}'" : throw new McpException($"no note named '{name}'");

    [McpServerTool(Name = "run_python"), Description("Runs Python 3 code in a separate process with a time limit and returns its output.")]
    public static async Task<CallToolResult> RunPython(PythonRunner python, [Description("Python 3 source code")] string code, CancellationToken cancellationToken)
    {
        var run = await python.RunAsync(code, cancellationToken);
        return new CallToolResult
        {
            IsError = !run.Succeeded,
            Content = [new TextContentBlock { Text = run.Describe() }],
        };
    }

    [McpServerTool(Name = "confirm_echo"), Description("Asks the client to confirm, then returns the message (a multi round-trip tool).")]
    public static string ConfirmEcho(RequestContext<CallToolRequestParams> context, string message)
    {
        if (context.Params?.InputResponses is { } responses && responses.TryGetValue("confirm", out var response))
        {
            var answer = JsonSerializer.Deserialize(response.RawValue, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ElicitResult))) as ElicitResult;
            return answer?.IsAccepted == true ? $"confirmed: {message}" : throw new McpException("not confirmed");
        }

        throw new InputRequiredException(
            new Dictionary<string, InputRequest>
            {
                ["confirm"] = InputRequest.ForElicitation(new ElicitRequestParams
                {
                    Message = $"Echo '{message}'?",
                    RequestedSchema = new() { Properties = { ["ok"] = new ElicitRequestParams.BooleanSchema() } },
                }),
            },
            null);
    }

    [McpServerTool(Name = "admin_reset"), Description("Deletes every note. Hidden by the sample policy.")]
    public static string AdminReset(NoteStore notes)
    {
        notes.Clear();
        return "all notes deleted";
    }
}
