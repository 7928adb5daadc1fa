namespace PolicyEngine.Tests.Analysis;

/// <summary>Each lint check: a policy that trips it (with the pointer and severity expected) and a near miss that does not.</summary>
public sealed class PolicyLinterTests
{
    private static IReadOnlyList<LintFinding> Lint(string tools, string extra = "", IEnumerable<string>? serverTools = null) =>
        PolicyLinter.Lint(PolicyDocument.Parse($$"""{ "version": "2", "default": "deny" {{extra}}, "tools": {{{tools}}} }"""), serverTools);

    private static LintFinding Single(IReadOnlyList<LintFinding> findings, string code) =>
        Assert.Single(findings, f => f.Code == code);

    [Fact]
    public void CleanPolicy_HasNoFindings()
    {
        var findings = Lint("""
            "read_file": { "require": [ { "path": "args.path", "op": "path_under", "value": "/workspace" } ] },
            "refund": { "require": [ { "path": "args.amount", "op": "gte", "value": 0 }, { "path": "args.amount", "op": "lte", "value": 500 } ],
                        "deny_if": [ { "path": "args.amount", "op": "gt", "value": 100 } ],
                        "limits": [ { "counter": "r", "window": "minute", "max": 5, "scope": "grant" },
                                    { "counter": "r2", "window": "hour", "max": 100, "scope": "grant" } ] }
            """);
        Assert.Empty(findings);
    }

    [Theory]
    [InlineData("""{ "path": "args.n", "op": "gt", "value": 100 }, { "path": "args.n", "op": "lt", "value": 50 }""", "/tools/t/require/1", "no number satisfies both")]
    [InlineData("""{ "path": "args.n", "op": "gte", "value": 5 }, { "path": "args.n", "op": "lt", "value": 5 }""", "/tools/t/require/1", "no number satisfies both")]
    [InlineData("""{ "path": "args.mode", "op": "eq", "value": "read" }, { "path": "args.mode", "op": "in", "value": ["write", "append"] }""", "/tools/t/require/1", "no value")]
    [InlineData("""{ "path": "args.mode", "op": "eq", "value": "read" }, { "path": "args.mode", "op": "neq", "value": "read" }""", "/tools/t/require/1", "no value")]
    [InlineData("""{ "path": "args.x", "op": "exists", "value": false }, { "path": "args.x", "op": "regex", "value": "a" }""", "/tools/t/require/1", "cannot be absent")]
    [InlineData("""{ "path": "args.x", "op": "gt", "value": 1 }, { "path": "args.x", "op": "starts_with", "value": "a" }""", "/tools/t/require/1", "cannot be a number")]
    [InlineData("""{ "path": "args.p", "op": "starts_with", "value": "/a" }, { "path": "args.p", "op": "starts_with", "value": "/b" }""", "/tools/t/require/1", "no string satisfies both")]
    [InlineData("""{ "all": [ { "path": "args.n", "op": "eq", "value": 1 }, { "path": "args.n", "op": "eq", "value": 2 } ] }""", "/tools/t/require/0", "contradict each other")]
    public void ContradictoryRequire_IsAnError(string require, string pointer, string why)
    {
        var findings = Lint($$"""
            "t": { "require": [ {{require}} ] }
            """);

        var finding = Assert.Single(findings);
        Assert.Equal(LintCodes.RequireNeverHolds, finding.Code);
        Assert.Equal(LintSeverity.Error, finding.Severity);
        Assert.Equal(pointer, finding.Pointer);
        Assert.Contains(why, finding.Message);
    }

    [Theory]
    [InlineData("""{ "path": "args.n", "op": "in", "value": [] }""")]
    [InlineData("""{ "path": "args.n", "op": "eq", "value": null }""")]
    [InlineData("""{ "path": "identity.id", "op": "exists", "value": false }""")]
    [InlineData("""{ "path": "identity.id", "op": "eq", "value": 7 }""")]
    [InlineData("""{ "any": [ { "path": "args.n", "op": "in", "value": [] }, { "not": { "path": "identity.id", "op": "exists", "value": true } } ] }""")]
    public void RequireThatNeverHolds_IsAnError(string predicate)
    {
        var finding = Single(Lint($$""" "t": { "require": [ {{predicate}} ] } """), LintCodes.RequireNeverHolds);
        Assert.Equal("/tools/t/require/0", finding.Pointer);
        Assert.Equal(LintSeverity.Error, finding.Severity);
    }

    [Fact]
    public void RequireThatAlwaysHolds_IsAWarning()
    {
        var finding = Single(Lint(""" "t": { "require": [ { "path": "identity.id", "op": "exists", "value": true } ] } """), LintCodes.RequireAlwaysHolds);
        Assert.Equal("/tools/t/require/0", finding.Pointer);
        Assert.Equal(LintSeverity.Warning, finding.Severity);
    }

    [Fact]
    public void DenyIfThatNeverHolds_IsAWarning()
    {
        var findings = Lint(""" "t": { "deny_if": [ { "path": "args.n", "op": "gt", "value": 5 }, { "path": "args.env", "op": "in", "value": [] } ] } """);
        var finding = Assert.Single(findings);
        Assert.Equal(LintCodes.DenyIfNeverHolds, finding.Code);
        Assert.Equal("/tools/t/deny_if/1", finding.Pointer);
    }

    [Theory]
    [InlineData("""[]""", """{ "path": "identity.id", "op": "exists", "value": true }""", "holds for every call")]
    [InlineData("""[ { "path": "args.n", "op": "gt", "value": 100 } ]""", """{ "path": "args.n", "op": "gte", "value": 50 }""", "/tools/t/require/0")]
    [InlineData("""[ { "path": "args.env", "op": "in", "value": ["prod", "staging"] } ]""", """{ "path": "args.env", "op": "starts_with", "value": "" }""", "/tools/t/require/0")]
    [InlineData("""[ { "path": "args.env", "op": "eq", "value": "prod" } ]""", """{ "any": [ { "path": "args.env", "op": "eq", "value": "prod" } ] }""", "/tools/t/require/0")]
    [InlineData("""[ { "path": "args.reason", "op": "regex", "value": "." } ]""", """{ "path": "args.reason", "op": "exists", "value": true }""", "/tools/t/require/0")]
    public void DenyIfThatAlwaysHolds_IsAWarning(string require, string denyIf, string why)
    {
        var findings = Lint($$""" "t": { "require": {{require}}, "deny_if": [ {{denyIf}} ] } """);
        var finding = Single(findings, LintCodes.DenyIfAlwaysHolds);
        Assert.Equal("/tools/t/deny_if/0", finding.Pointer);
        Assert.Contains(why, finding.Message);
    }

    [Fact]
    public void DenyIfOnlySometimesImplied_IsNotReported()
    {
        Assert.Empty(Lint(""" "t": { "require": [ { "path": "args.n", "op": "gte", "value": 10 } ], "deny_if": [ { "path": "args.n", "op": "gt", "value": 10 } ] } """));
    }

    [Theory]
    [InlineData("""{ "counter": "a", "window": "hour", "max": 10, "scope": "grant" }, { "counter": "b", "window": "minute", "max": 10, "scope": "grant" }""", "/tools/t/limits/1", "10 calls")]
    [InlineData("""{ "counter": "a", "window": "minute", "max": 5, "scope": "global" }, { "counter": "b", "window": "minute", "max": 8, "scope": "grant" }""", "/tools/t/limits/1", "5 calls")]
    [InlineData("""{ "counter": "a", "window": "1h", "max": 10, "scope": "grant", "algorithm": "sliding" }, { "counter": "b", "window": "1m", "max": 20, "scope": "grant", "algorithm": "sliding" }""", "/tools/t/limits/1", "10 calls")]
    [InlineData("""{ "counter": "a", "window": "day", "max": 1000, "scope": "grant", "cost_from": "args.cents" }, { "counter": "b", "window": "hour", "max": 5000, "scope": "grant", "cost_from": "args.cents" }""", "/tools/t/limits/1", "1000 of args.cents")]
    [InlineData("""{ "counter": "a", "window": "minute", "max": 10, "scope": "tool" }, { "counter": "b", "window": "minute", "max": 10, "scope": "grant" }""", "/tools/t/limits/1", "10 calls")]
    public void LimitThatIsNeverReached_IsAWarning(string limits, string pointer, string cap)
    {
        var finding = Single(Lint($$""" "t": { "limits": [ {{limits}} ] } """), LintCodes.LimitNeverReached);
        Assert.Equal(pointer, finding.Pointer);
        Assert.Equal(LintSeverity.Warning, finding.Severity);
        Assert.Contains(cap, finding.Message);
    }

    [Theory]
    [InlineData("""{ "counter": "a", "window": "minute", "max": 10, "scope": "grant" }, { "counter": "b", "window": "hour", "max": 100, "scope": "grant" }""")]
    [InlineData("""{ "counter": "a", "window": "minute", "max": 10, "scope": "grant" }, { "counter": "b", "window": "minute", "max": 20, "scope": "global" }""")]
    [InlineData("""{ "counter": "a", "window": "7m", "max": 5, "scope": "grant" }, { "counter": "b", "window": "2m", "max": 8, "scope": "grant" }""")]
    [InlineData("""{ "counter": "a", "window": "hour", "max": 10, "scope": "grant" }, { "counter": "b", "window": "minute", "max": 15, "scope": "grant", "algorithm": "sliding" }""")]
    [InlineData("""{ "counter": "a", "window": "hour", "max": 10, "scope": "grant" }, { "counter": "shared", "window": "minute", "max": 20, "scope": "grant" }""")]
    public void LimitsThatCanEachRefuse_AreNotReported(string limits)
    {
        Assert.DoesNotContain(
            Lint($$""" "t": { "limits": [ {{limits}} ] }, "u": { "limits": [ { "counter": "shared", "window": "minute", "max": 20, "scope": "grant" } ] } """),
            f => f.Pointer.StartsWith("/tools/t", StringComparison.Ordinal));
    }

    [Fact]
    public void AllToolsLimit_CanMakeAToolLimitUnreachable()
    {
        var finding = Single(
            Lint(""" "t": { "limits": [ { "counter": "t", "window": "minute", "max": 100, "scope": "grant" } ] } """,
                 """, "all_tools": { "limits": [ { "counter": "all", "window": "minute", "max": 60, "scope": "grant" } ] }"""),
            LintCodes.LimitNeverReached);
        Assert.Equal("/tools/t/limits/0", finding.Pointer);
        Assert.Contains("/all_tools/limits/0", finding.Message);
    }

    [Theory]
    [InlineData("""{ "type": "object", "properties": { "amount": { "type": "string" } } }""", LintSeverity.Error, "never an integer")]
    [InlineData("""{ "type": "object", "properties": { "amount": { "type": ["string", "boolean"] } } }""", LintSeverity.Error, "never an integer")]
    [InlineData("""{ "type": "object", "properties": { "other": { "type": "integer" } }, "additionalProperties": false }""", LintSeverity.Error, "admits no argument")]
    [InlineData("""{ "type": "object", "properties": { "amount": { "type": "number" } } }""", LintSeverity.Info, "fraction")]
    public void CostFromThatArgsSchemaRulesOut_IsReported(string schema, LintSeverity severity, string why)
    {
        var findings = Lint($$"""
            "charge": { "args_schema": {{schema}},
                        "limits": [ { "counter": "spend", "window": "day", "max": 100000, "scope": "grant", "cost_from": "args.amount" } ] }
            """);
        var finding = Single(findings, LintCodes.CostFromNotNumber);
        Assert.Equal("/tools/charge/limits/0/cost_from", finding.Pointer);
        Assert.Equal(severity, finding.Severity);
        Assert.Contains(why, finding.Message);
    }

    [Fact]
    public void CostFromAnInteger_IsNotReported()
    {
        Assert.Empty(Lint("""
            "charge": { "args_schema": { "type": "object", "properties": { "amount": { "type": "integer" } } },
                        "limits": [ { "counter": "spend", "window": "day", "max": 100000, "scope": "grant", "cost_from": "args.amount" } ] }
            """));
    }

    [Fact]
    public void HideEntryCoveredByAnother_IsRedundant()
    {
        var findings = PolicyLinter.Lint(PolicyDocument.Parse("""{ "version": "2", "default": "deny", "hide": ["debug_*", "debug_dump", "admin", "admin"] }"""));
        Assert.Equal(["/hide/1", "/hide/3"], findings.Where(f => f.Code == LintCodes.HideRedundant).Select(f => f.Pointer));
    }

    [Fact]
    public void HideEntryMatchingNoListedTool_IsReported()
    {
        var findings = PolicyLinter.Lint(PolicyDocument.Parse("""{ "version": "2", "default": "deny", "hide": ["get-env", "gzip-*", "debug_*"] }"""),
            ["echo", "get-env", "gzip-file-as-resource"]);
        var finding = Single(findings, LintCodes.HideMatchesNothing);
        Assert.Equal("/hide/2", finding.Pointer);
    }

    [Fact]
    public void EntryForAHiddenTool_NeverRuns()
    {
        var findings = Lint(""" "get-env": { "limits": [ { "counter": "c", "window": "minute", "max": 1, "scope": "grant" } ] }, "echo": {} """,
            """, "hide": ["get-*"]""");
        var finding = Single(findings, LintCodes.EntryHidden);
        Assert.Equal("/tools/get-env", finding.Pointer);
        Assert.Contains("/hide/0", finding.Message);

        // A hidden entry that denies is a deliberate second line: it keeps the tool denied if taken out of hide.
        Assert.Empty(Lint(""" "get-env": { "action": "deny", "on_deny": "no" } """, """, "hide": ["get-env"]"""));
    }

    [Fact]
    public void EntriesMatchingNoListedTool_AreReported()
    {
        var findings = Lint(""" "echo": {}, "ecko": {}, "fs_*": {} """, serverTools: ["echo", "get-sum"]);
        Assert.Equal(["/tools/ecko", "/tools/fs_*"], findings.Where(f => f.Code == LintCodes.EntryMatchesNothing).Select(f => f.Pointer));
    }

    [Fact]
    public void GlobShadowedByExactEntries_ForEveryListedTool_IsReported()
    {
        string[] server = ["read_file", "read_dir", "write_file"];
        var findings = Lint(""" "read_*": { "limits": [ { "counter": "r", "window": "minute", "max": 9, "scope": "grant" } ] }, "read_file": {}, "read_dir": {}, "write_file": {} """, serverTools: server);
        var finding = Single(findings, LintCodes.GlobShadowed);
        Assert.Equal("/tools/read_*", finding.Pointer);
        Assert.Contains("read_dir (/tools/read_dir)", finding.Message);

        // Without the exact entry for read_dir the glob still governs a tool: no finding.
        Assert.DoesNotContain(Lint(""" "read_*": {}, "read_file": {} """, serverTools: server), f => f.Code == LintCodes.GlobShadowed);
    }

    [Theory]
    [InlineData(""" "t": { "action": "deny", "on_deny": "never", "approval": { "reason": "r" } } """, "/tools/t/action")]
    [InlineData(""" "t": { "require": [ { "path": "args.n", "op": "in", "value": [] } ], "approval": { "reason": "r" } } """, "/tools/t/require/0")]
    [InlineData(""" "t": { "deny_if": [ { "path": "identity.id", "op": "exists", "value": true } ], "approval": { "reason": "r" } } """, "/tools/t/deny_if/0")]
    [InlineData(""" "t": { "approval": { "when": [ { "path": "args.n", "op": "in", "value": [] } ], "reason": "r" } } """, "can never hold")]
    public void ApprovalOnAToolThatIsAlwaysDenied_IsNeverAsked(string tools, string why)
    {
        var finding = Single(Lint(tools), LintCodes.ApprovalNeverAsked);
        Assert.StartsWith("/tools/t/approval", finding.Pointer, StringComparison.Ordinal);
        Assert.Contains(why, finding.Message);
    }
}
