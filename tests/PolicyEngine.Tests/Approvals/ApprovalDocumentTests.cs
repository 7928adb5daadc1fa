namespace PolicyEngine.Tests.Approvals;

/// <summary>The <c>approval</c> keys of version 2: validation with pointers, and a lossless round trip.</summary>
public sealed class ApprovalDocumentTests
{
    private static string Doc(string approval) =>
        """{"version":"2","default":"deny","tools":{"t":{"approval":""" + approval + "}}}";

    [Fact]
    public void AllKeys_RoundTrip()
    {
        var json = Doc("""{"reason":"r","ttl":"5m","approvers":[{"any":[{"path":"identity.roles","op":"contains","value":"sec"},{"path":"identity.id","op":"in","value":["root"]}]}],"min_approvers":2,"on_pending":"wait","preview":["args.a","args.b.c"],"wait":"return"}""");
        var document = PolicyDocument.Parse(json);
        var again = PolicyDocument.Parse(document.ToJson());

        Assert.Equal(document.ToJson(), again.ToJson());
        var rule = again.Tools!.Single().Approval!;
        Assert.Equal(2, rule.MinApprovers);
        Assert.Equal("wait", rule.OnPending);
        Assert.Equal(["args.a", "args.b.c"], rule.Preview);
        Assert.Equal(ApprovalWaitMode.Return, rule.Wait);
        Assert.Single(rule.Approvers!);
    }

    [Fact]
    public void ExistingApprovalRules_StayValid()
    {
        var rule = PolicyDocument.Parse(Doc("""{"reason":"r","when":[{"path":"args.x","op":"exists","value":true}]}""")).Tools!.Single().Approval!;

        Assert.Null(rule.Approvers);
        Assert.Null(rule.Wait);
    }

    [Theory]
    [InlineData("""{"reason":"r","approvers":[{"path":"args.x","op":"exists","value":true}]}""", "/tools/t/approval/approvers/0", "identity.")]
    [InlineData("""{"reason":"r","approvers":[{"not":{"path":"args.x","op":"exists","value":true}}]}""", "/tools/t/approval/approvers/0", "identity.")]
    [InlineData("""{"reason":"r","approvers":[]}""", "/tools/t/approval/approvers", "at least one")]
    [InlineData("""{"reason":"r","min_approvers":2}""", "/tools/t/approval/min_approvers", "needs \"approvers\"")]
    [InlineData("""{"reason":"r","approvers":[{"path":"identity.id","op":"eq","value":"a"}],"min_approvers":11}""", "/tools/t/approval/min_approvers", "at most 10")]
    [InlineData("""{"reason":"r","approvers":[{"path":"identity.id","op":"eq","value":"a"}],"min_approvers":0}""", "/tools/t/approval/min_approvers", "at least 1")]
    [InlineData("""{"reason":"r","approvers":[{"path":"identity.id","op":"eq","value":"a"}],"wait":"elicit"}""", "/tools/t/approval/wait", "caller")]
    [InlineData("""{"reason":"r","wait":"later"}""", "/tools/t/approval/wait", "\"return\"")]
    [InlineData("""{"reason":"r","preview":["amount"]}""", "/tools/t/approval/preview/0", "args.")]
    [InlineData("""{"reason":"r","preview":["args.a","args.a"]}""", "/tools/t/approval/preview/1", "twice")]
    [InlineData("""{"reason":"r","preview":"args.a"}""", "/tools/t/approval/preview", "array")]
    [InlineData("""{"reason":"r","on_pending":""}""", "/tools/t/approval/on_pending", "empty")]
    [InlineData("""{"reason":"r","approver":[]}""", "/tools/t/approval/approver", "did you mean \"approvers\"")]
    public void Invalid_IsReportedWithItsPointer(string approval, string pointer, string words)
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse(Doc(approval)));

        Assert.Contains(ex.Errors, e => e.Pointer == pointer && e.Message.Contains(words, StringComparison.Ordinal));
    }

    [Fact]
    public void Version1_RejectsApprovals()
    {
        Assert.Throws<PolicyValidationException>(() => PolicyDocument.Parse("""{"version":"1","default":"deny","tools":{"t":{"approval":{"reason":"r","approvers":[{"path":"identity.id","op":"eq","value":"a"}]}}}}"""));
    }
}
