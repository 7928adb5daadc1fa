using System.Text.Json;

namespace PolicyEngine.Stores.Tests;

/// <summary>Policies and calls for the store tests.</summary>
public static class StoreTestPolicies
{
    public static readonly JsonElement NoArgs = JsonDocument.Parse("{}").RootElement.Clone();

    public static Policy Compile(string json) => Policy.Compile(PolicyDocument.Parse(json));

    public static JsonElement Args(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static JsonElement Args(object value) => JsonSerializer.SerializeToElement(value);

    /// <summary>A JSON string body for any UTF-16 text, lone surrogates included (as \u escapes).</summary>
    public static string Escape(string value)
    {
        var builder = new System.Text.StringBuilder(value.Length + 16);
        foreach (var c in value)
        {
            if (c < 0x20 || c == '"' || c == '\\' || char.IsSurrogate(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Per-identity (grant) and per-argument limits of max 2 a day, to probe key separation.</summary>
    public const string KeyProbe = """
        {
          "version": "2",
          "default": "allow",
          "tools": {
            "by_grant": { "limits": [ { "counter": "g", "window": "day", "max": 2, "scope": "grant" } ] },
            "by_arg": { "limits": [ { "counter": "a", "window": "day", "max": 2, "scope": "args.customer" } ] }
          }
        }
        """;

    /// <summary>Hostile strings: separators, hash tags, newlines, a megabyte, lone surrogates.</summary>
    public static readonly string[] HostileValues =
    [
        "a:b",
        "a",
        "a:",
        ":b",
        "{tag}",
        "{}",
        "}{",
        "{policyengine}:c:00",
        "line\nbreak",
        "line\r\nbreak",
        "\0",
        "",
        "\uD800",
        "\uDC00",
        "\uDBFF",
        "\uFFFD",
        "x\uD800y",
        "x\uDC00y",
        "1:g|86400000f|1:x",
        "*",
        new string('m', 1 << 20),
        new string('m', (1 << 20) + 1),
        "sp ce",
        "\"quote\"",
        "\u00E9",
        "e\u0301",
    ];

    /// <summary>
    /// Through the evaluator: every hostile identity and argument value has its own counter of max 2 — two calls are
    /// admitted and the third refused for each, whatever was spent on any other value.
    /// </summary>
    public static void AssertHostileKeysAreSeparate(ICounterStore store)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
        var evaluator = new PolicyEvaluator(Compile(KeyProbe), store, timeProvider: time);
        var run = Guid.NewGuid().ToString("N");
        foreach (var value in HostileValues)
        {
            var identity = new PolicyIdentity(run + value);
            Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "by_grant", NoArgs).Kind);
            Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "by_grant", NoArgs).Kind);
            Assert.Equal(DecisionKind.RateLimited, evaluator.Evaluate(identity, "by_grant", NoArgs).Kind);

            var args = JsonDocument.Parse("{\"customer\":\"" + Escape(run + value) + "\"}").RootElement;
            Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "by_arg", args).Kind);
            Assert.Equal(DecisionKind.Allow, evaluator.Evaluate(identity, "by_arg", args).Kind);
            var third = evaluator.Evaluate(identity, "by_arg", args);
            Assert.True(third.Kind == DecisionKind.RateLimited, $"value #{Array.IndexOf(HostileValues, value)}: {third}");
        }
    }
}
