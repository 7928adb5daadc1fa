using System.Text;

namespace PolicyEngine.Intercept.Tests;

/// <summary>Files in the shape `intercept scan` writes: comments, default allow, dozens of tools with <c>rules: []</c>.</summary>
public sealed class ScaffoldTests
{
    private const string Scaffold = """
        #  ─────────────────────────────────────────────────────────
        #  Policy: Example MCP Server
        #  Tools: 5
        #  ─────────────────────────────────────────────────────────
        version: "1"
        description: "Policy for an example server"
        #  Set to "deny" to reject tool calls not listed below
        default: "allow"
        tools:
            #  ── Read Tools ───────────────────────────────────────────
            #  show_item: Shows one item
            show_item:
                rules: []
            #  ── Write Tools ──────────────────────────────────────────
            #  create_item: Creates an item
            create_item:
                rules: []
            update_item:
                rules: []
            #  ── Other Tools ──────────────────────────────────────────
            delete_item:
                rules: []
            list_items:
                rules: []

          # Uncomment to apply a global rate limit across all tools:
          # "*":
          #   rules:
          #     - name: "global rate limit"
          #       rate_limit: 60/minute
        """;

    [Fact]
    public void Import_ScaffoldWithComments_AllowsEveryListedAndUnlistedTool()
    {
        var h = new Harness(Scaffold);
        Assert.Equal(5, h.Import.Document.Tools.Count);
        Assert.Equal(DefaultAction.Allow, h.Import.Document.Default);
        Assert.True(h.Call("delete_item").IsAllowed);
        Assert.True(h.Call("unknown_tool").IsAllowed);
    }

    [Theory]
    [InlineData(40, "allow")]
    [InlineData(120, "deny")]
    public void Import_DozensOfToolsWithEmptyRules_Imports(int count, string posture)
    {
        var yaml = new StringBuilder($"# generated\nversion: \"1\"\ndescription: \"many tools\"\ndefault: \"{posture}\"\ntools:\n");
        for (var i = 0; i < count; i++)
        {
            yaml.Append($"    #  tool_{i}: does thing {i}\n    tool_{i}:\n        rules: []\n");
        }

        var h = new Harness(yaml.ToString());
        Assert.Equal(count, h.Import.Document.Tools.Count);
        Assert.True(h.Call("tool_7").IsAllowed);
        Assert.Equal(posture == "allow", h.Call("not_listed").IsAllowed);
    }

    [Theory]
    [InlineData("version: \"1\"\ntools:\n  t:\n")]
    [InlineData("version: \"1\"\ntools:\n  t: {}\n")]
    [InlineData("version: \"1\"\ntools:\n  t:\n    rules:\n")]
    [InlineData("version: 1\ntools: {}\n")]
    [InlineData("version: \"1\"\n")]
    public void Import_EmptyForms_Import(string yaml)
    {
        Assert.True(InterceptPolicy.TryImport(yaml, null, out var imported, out var errors), string.Join("\n", errors));
        Assert.Equal("2", imported.Document.Version);
    }

    [Fact]
    public void Import_OutputRoundTripsThroughTheJsonParser()
    {
        var document = InterceptPolicy.Import(Scaffold).Document;
        Assert.Equal(document, PolicyDocument.Parse(document.ToJson()));
    }
}
