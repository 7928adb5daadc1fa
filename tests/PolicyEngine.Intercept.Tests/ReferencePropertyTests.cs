using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace PolicyEngine.Intercept.Tests;

/// <summary>The imported document decides every call as a direct reading of the YAML rules does.</summary>
public sealed class ReferencePropertyTests
{
    [Property(MaxTest = 1000)]
    public Property ImportedDocument_DecidesAsTheReferenceInterpreter()
    {
        var runs = Gen.Choose(0, int.MaxValue).Select(seed => seed).ToArbitrary();
        return Prop.ForAll(runs, seed =>
        {
            var random = new Random(seed);
            var policy = RefPolicy.Random(random);
            var yaml = policy.ToYaml();
            var harness = new Harness(yaml);
            var reference = new ReferenceInterpreter(policy);
            for (var i = 0; i < 30; i++)
            {
                var call = RefCall.Random(random);
                harness.Clock.Advance(call.Advance);
                var expected = reference.Evaluate(call, harness.Clock.GetUtcNow());
                var actual = harness.Call(call.Tool, call.Args.ToJsonString(), call.Identity, call.Succeeded);
                var context = string.Create(CultureInfo.InvariantCulture, $"seed {seed}, call {i}: {call.Tool} {call.Args.ToJsonString()}\n{yaml}\n{harness.Import.Document.ToJson()}");
                Assert.True(expected.Allowed == actual.IsAllowed, $"allowed: expected {expected.Allowed}, got {actual} — {context}");
                if (!expected.Allowed && expected.ExactMessage)
                {
                    Assert.True(expected.Message == actual.Reason, $"reason: expected \"{expected.Message}\", got \"{actual.Reason}\" — {context}");
                }
            }

            return true;
        });
    }
}
