namespace PolicyEngine.Tests.Approvals;

public sealed class InMemoryApprovalStoreTests : ApprovalQueueContractTests
{
    protected override IApprovalQueue CreateStore() => new InMemoryApprovalStore();

    [Fact]
    public async Task Submit_BeyondTheCap_Fails()
    {
        using var store = new InMemoryApprovalStore(maxRequests: 2);
        PendingApproval Make(int i) => new(
            "id" + i, "fp" + i, "t", "agent", "r", "/tools/t/approval", "v", T0, T0.AddMinutes(1), TimeSpan.FromMinutes(1), 1, "", [], new Dictionary<string, string>());
        await store.SubmitAsync(Make(1), T0, TestContext.Current.CancellationToken);
        await store.SubmitAsync(Make(2), T0, TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.SubmitAsync(Make(3), T0, TestContext.Current.CancellationToken));
    }
}
