using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Intercept.Tests;

/// <summary>An imported Intercept policy running in an evaluator on a fake clock.</summary>
internal sealed class Harness
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 10, 0, 0, TimeSpan.Zero);

    public Harness(string yaml, InterceptImportOptions? options = null)
    {
        Import = InterceptPolicy.Import(yaml, options);
        Clock = new FakeTimeProvider(Start);
        Evaluator = new PolicyEvaluator(Policy.Compile(Import.Document), timeProvider: Clock);
    }

    public InterceptImport Import { get; }

    public FakeTimeProvider Clock { get; }

    public PolicyEvaluator Evaluator { get; }

    public Decision Call(string tool, string argsJson = "{}", string identity = "agent", bool succeeded = true)
    {
        using var args = JsonDocument.Parse(argsJson);
        var decision = Evaluator.Evaluate(new PolicyIdentity(identity), tool, args.RootElement);
        Evaluator.Complete(decision, succeeded);
        return decision;
    }

    public static string Args(object value) => JsonSerializer.Serialize(value);
}
