using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using PolicyEngine.Stores.Tests;

namespace PolicyEngine.Redis.Tests;

/// <summary>The sharded layout's hash tags, without a server: which part of a counter key picks its slot, and that no key can break out of its tag.</summary>
public sealed class CounterHashTagTests
{
    private const string EveryScope = """
        {
          "version": "2",
          "default": "allow",
          "all_tools": { "limits": [ { "counter": "all", "window": "10s", "max": 100, "scope": "tool" } ] },
          "tools": {
            "t": { "limits": [
              { "counter": "g1", "window": "minute", "max": 100, "scope": "grant" },
              { "counter": "g2", "window": "1h", "max": 100, "scope": "grant", "algorithm": "sliding" },
              { "counter": "glob", "window": "day", "max": 100, "scope": "global" },
              { "counter": "cust", "window": "day", "max": 100, "scope": "args.customer" },
              { "counter": "num", "window": "day", "max": 100, "scope": "args.n" } ] }
          }
        }
        """;

    /// <summary>The counter keys the evaluator asks for when <paramref name="identity"/> calls tool t.</summary>
    private static CounterRequest[] KeysOf(string identity, string customer, int n = 5)
    {
        var recorder = new RecordingCounterStore();
        var evaluator = new PolicyEvaluator(StoreTestPolicies.Compile(EveryScope), recorder);
        var args = JsonDocument.Parse("{\"customer\":\"" + StoreTestPolicies.Escape(customer) + "\",\"n\":" + n + "}").RootElement;
        Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(new PolicyIdentity(identity), "t", args).Kind);
        return recorder.Last;
    }

    [Fact]
    public void Classify_EvaluatorKeys_PickTheScopeValueOrTheCounterId()
    {
        var keys = KeysOf("alice", "acme");
        Assert.Equal(6, keys.Length);
        var classes = keys.Select(k => (CounterHashTag.Classify(k.Key, out var source), source.ToString())).ToArray();
        Assert.Equal(
            [
                (CounterHashTag.Grant, "alice"),
                (CounterHashTag.Grant, "alice"),
                (CounterHashTag.Global, "glob"),
                (CounterHashTag.Argument, "sacme"),
                (CounterHashTag.Argument, "j5"),
                (CounterHashTag.Tool, "t"),
            ],
            classes);
    }

    [Fact]
    public void HashSlotOf_OneIdentitysGrantCounters_ShareOneSlotWhateverTheirWindows()
    {
        var store = Sharded();
        foreach (var identity in StoreTestPolicies.HostileValues)
        {
            var keys = KeysOf(identity, "c");
            Assert.Equal(store.HashSlotOf(keys[0].Key), store.HashSlotOf(keys[1].Key));
            Assert.NotEqual(store.RedisKeyOf(keys[0].Key), store.RedisKeyOf(keys[1].Key));
        }
    }

    [Fact]
    public void HashSlotOf_ManyIdentities_SpreadOverTheSlots()
    {
        var store = Sharded();
        var slots = new HashSet<int>();
        for (var i = 0; i < 2_000; i++)
        {
            slots.Add(store.HashSlotOf(KeysOf("user-" + i, "c")[0].Key));
        }

        // 2,000 identities over 16,384 slots: about 1,890 distinct slots expected; a tag that ignored the identity would give 1.
        Assert.True(slots.Count > 1_800, $"{slots.Count} distinct slots");
    }

    [Fact]
    public void HashSlotOf_ArgumentScopedCounters_FollowTheValueNotTheIdentity()
    {
        var store = Sharded();
        var alice = KeysOf("alice", "acme");
        var bob = KeysOf("bob", "acme");
        Assert.Equal(alice[3].Key, bob[3].Key);
        Assert.Equal(store.HashSlotOf(alice[2].Key), store.HashSlotOf(bob[2].Key));
        Assert.Equal(store.HashSlotOf(KeysOf("x", "acme")[3].Key), store.HashSlotOf(KeysOf("y", "acme", 7)[3].Key));
    }

    public static TheoryData<string> MalformedKeys => new()
    {
        "",
        "plain",
        "1:a|60000f|1:",
        "1:a|60000f|1:gx",
        "01:a|60000f|2:gx",
        "1:a|f|2:gx",
        "1:a|60000x|2:gx",
        "1:a60000f|2:gx",
        "9:a|60000f|2:gx",
        "1:a|60000f|2:zx",
        "1:a|60000f|2:**",
        "99999999999:a|60000f|2:gx",
        "-1:a|60000f|2:gx",
        "1:a|60000f|2:gx|",
        "{tag}",
    };

    [Theory]
    [MemberData(nameof(MalformedKeys))]
    public void Classify_KeysNotInTheEvaluatorsFormat_AreTaggedByTheWholeKey(string key)
    {
        Assert.Equal(CounterHashTag.Other, CounterHashTag.Classify(key, out var source));
        Assert.Equal(key, source.ToString());
    }

    [Fact]
    public void Classify_KeysInTheEvaluatorsFormat_ParseOneWay()
    {
        Assert.Equal(CounterHashTag.Grant, CounterHashTag.Classify("1:a|60000f|2:gx", out var source));
        Assert.Equal("x", source.ToString());
        Assert.Equal(CounterHashTag.Grant, CounterHashTag.Classify("3:a|b|60000s|6:g}{|:x", out source));
        Assert.Equal("}{|:x", source.ToString());
        Assert.Equal(CounterHashTag.Global, CounterHashTag.Classify("3:{a}|1f|1:*", out source));
        Assert.Equal("{a}", source.ToString());
        Assert.Equal(CounterHashTag.Tool, CounterHashTag.Classify("0:|5s|1:t", out source));
        Assert.Equal("", source.ToString());
    }

    [Fact]
    public void RedisKeyOf_HostileKeys_HaveExactlyTheStoresOwnHexTag()
    {
        var store = Sharded("app:");
        foreach (var value in StoreTestPolicies.HostileValues)
        {
            foreach (var key in KeysOf(value, value).Select(k => k.Key).Append(value))
            {
                var redisKey = store.RedisKeyOf(key);
                Assert.Matches("^app:c:\\{[0-9a-f]{16}\\}:[0-9a-f]{64}$", redisKey);
                Assert.Equal(store.HashSlotOf(key), RedisKeys.KeySlot(Encoding.UTF8.GetBytes(redisKey)));
            }
        }
    }

    [Fact]
    public void RedisKeyOf_ArbitraryUtf16Keys_NeverThrowNeverCollideAndAlwaysCarryOneTag()
    {
        var store = Sharded("p:");
        Prop.ForAll(
            Gen.Elements('{', '}', '|', ':', '1', '0', 'g', 't', 's', 'j', '*', '\uD800', '\uDC00', 'x').ArrayOf().Select(c => new string(c)).Two().ToArbitrary(),
            pair =>
            {
                var (a, b) = pair;
                var keyA = store.RedisKeyOf(a);
                Assert.Matches("^p:c:\\{[0-9a-f]{16}\\}:[0-9a-f]{64}$", keyA);
                Assert.Equal(store.HashSlotOf(a), RedisKeys.KeySlot(Encoding.UTF8.GetBytes(keyA)));
                Assert.Equal(a == b, keyA == store.RedisKeyOf(b));
            }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void KeySlot_KnownValues_MatchRedisCluster()
    {
        // CRC-16/XMODEM check value, and slots Redis itself reports (CLUSTER KEYSLOT), hash tags included.
        Assert.Equal(0x31C3, RedisKeys.Crc16("123456789"u8));
        Assert.Equal(12182, RedisKeys.KeySlot("foo"u8));
        Assert.Equal(5061, RedisKeys.KeySlot("bar"u8));
        Assert.Equal(RedisKeys.KeySlot("user1000"u8), RedisKeys.KeySlot("{user1000}.following"u8));
        Assert.Equal(RedisKeys.KeySlot("{}x"u8), RedisKeys.KeySlot("{}x"u8));
        Assert.NotEqual(RedisKeys.KeySlot("x"u8), RedisKeys.KeySlot("{}x"u8));
        Assert.Equal(RedisKeys.KeySlot("a"u8), RedisKeys.KeySlot("x{a}{b}"u8));
    }

    [Theory]
    [InlineData("{policyengine}:")]
    [InlineData("a{b")]
    [InlineData("a}b")]
    public void Constructor_ShardedPrefixWithBraces_IsRejected(string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisCounterStore(RedisCounterStoreTests.Unconnected(), new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = prefix }));
        Assert.Contains("sharded layout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_DefaultPrefixes_FollowTheLayout()
    {
        var single = new RedisCounterStore(RedisCounterStoreTests.Unconnected());
        var sharded = new RedisCounterStore(RedisCounterStoreTests.Unconnected(), new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded });
        Assert.Equal(RedisCounterLayout.SingleSlot, single.Layout);
        Assert.StartsWith("{policyengine}:c:", single.RedisKeyOf("k"), StringComparison.Ordinal);
        Assert.Equal(RedisKeys.KeySlot("policyengine"u8), single.HashSlotOf("k"));
        Assert.Equal(RedisCounterLayout.Sharded, sharded.Layout);
        Assert.StartsWith("policyengine:c:{", sharded.RedisKeyOf("k"), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new RedisCounterStore(RedisCounterStoreTests.Unconnected(), new RedisCounterStoreOptions { Layout = (RedisCounterLayout)7 }));
    }

    private static RedisCounterStore Sharded(string prefix = "policyengine:") =>
        new(RedisCounterStoreTests.Unconnected(), new RedisCounterStoreOptions { Layout = RedisCounterLayout.Sharded, KeyPrefix = prefix });
}
