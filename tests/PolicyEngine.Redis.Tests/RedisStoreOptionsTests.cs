using PolicyEngine.Redis;

namespace PolicyEngine.Redis.Tests;

/// <summary>Both Redis stores validate their whole options object when they are built (no server needed).</summary>
public sealed class RedisStoreOptionsTests
{
    [Fact]
    public void CounterStore_DefaultOptions_AreValid()
    {
        var store = new RedisCounterStore(RedisCounterStoreTests.Unconnected(), new RedisCounterStoreOptions());
        Assert.Equal(RedisCounterLayout.SingleSlot, store.Layout);
    }

    [Fact]
    public void CounterStore_EnforcedZeroSkewAndUnknownLayout_BothNamed()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisCounterStore(
            RedisCounterStoreTests.Unconnected(),
            new RedisCounterStoreOptions { Layout = (RedisCounterLayout)7, ClockSkew = TimeSpan.Zero, EnforceClockSkew = true }));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("RedisCounterStoreOptions.Layout '7' is unknown", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.ClockSkew must be positive when EnforceClockSkew is set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_WrongOptions_ThrowBeforeConnecting()
    {
        // Nothing listens on port 1: were the options not checked first, this would try to connect.
        var error = Assert.Throws<ArgumentException>(() => RedisCounterStore.Connect("127.0.0.1:1", new RedisCounterStoreOptions { Timeout = TimeSpan.FromSeconds(-1), KeyPrefix = "" }));
        Assert.Equal("options", error.ParamName);
        Assert.Contains("RedisCounterStoreOptions.Timeout", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisCounterStoreOptions.KeyPrefix", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApprovalStore_DefaultOptions_AreValid()
    {
        _ = new RedisApprovalStore(RedisCounterStoreTests.Unconnected(), new RedisApprovalStoreOptions());
        _ = new RedisApprovalStore(RedisCounterStoreTests.Unconnected());
    }

    [Fact]
    public void ApprovalStore_SeveralWrongOptions_NamesEveryOneInOneException()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisApprovalStore(
            RedisCounterStoreTests.Unconnected(),
            new RedisApprovalStoreOptions { KeyPrefix = null!, Timeout = TimeSpan.Zero, Database = -7 }));
        Assert.Equal("options", error.ParamName);
        Assert.StartsWith("options are not valid: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisApprovalStoreOptions.KeyPrefix must be set", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisApprovalStoreOptions.Timeout must be positive", error.Message, StringComparison.Ordinal);
        Assert.Contains("RedisApprovalStoreOptions.Database must be -1", error.Message, StringComparison.Ordinal);
    }
}
