using FsCheck;
using FsCheck.Fluent;

namespace PolicyEngine.Testing;

/// <summary>
/// A property of a policy (built by <see cref="PolicyInvariants"/>), checked over generated calls or timed sequences.
/// Use <see cref="Assert"/> or <see cref="Check"/> from any test or plain code, or <see cref="ToProperty"/> as the
/// return value of an FsCheck <c>[Property]</c> test.
/// </summary>
public sealed class PolicyInvariant
{
    private readonly Gen<PolicyCall[]> _scenarios;
    private readonly Func<PolicyCall[], string?> _violation;

    internal PolicyInvariant(string description, Gen<PolicyCall[]> scenarios, Func<PolicyCall[], string?> violation)
    {
        Description = description;
        _scenarios = scenarios;
        _violation = violation;
    }

    /// <summary>What the invariant says, in words.</summary>
    public string Description { get; }

    /// <summary>Searches for a counterexample and shrinks the first one found.</summary>
    /// <param name="options">How many tests, which seed; defaults when <see langword="null"/>.</param>
    /// <returns>The result: passed, or the minimal counterexample in plain words.</returns>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public PolicyCheckResult Check(PolicyCheckOptions? options = null)
    {
        options ??= new PolicyCheckOptions();
        Validate(options).ThrowIfAny();
        var seed = options.Seed ?? (ulong)Random.Shared.NextInt64();
        var tried = 0;

        // One sample of every test from one seed: seeds a fixed stride apart would walk the generator's own stream.
        foreach (var scenario in Gen.Sample(_scenarios, options.Tests, new Rnd(seed), 30))
        {
            tried++;
            if (_violation(scenario) is { } violation)
            {
                var (smallest, message, steps) = Shrink(scenario, violation, options.MaxShrinkAttempts);
                return new PolicyCheckResult(Description, tried, seed, smallest, message, steps);
            }
        }

        return new PolicyCheckResult(Description, tried, seed, null, null, 0);
    }

    /// <summary>Every problem of <paramref name="options"/>, each naming its property.</summary>
    private static OptionsProblems Validate(PolicyCheckOptions options)
    {
        var problems = new OptionsProblems(nameof(PolicyCheckOptions));
        if (options.Tests < 1)
        {
            problems.Add(nameof(options.Tests), $"must be at least 1 (it is {options.Tests})");
        }

        if (options.MaxShrinkAttempts < 0)
        {
            problems.Add(nameof(options.MaxShrinkAttempts), $"must not be negative; 0 reports the first counterexample unshrunk (it is {options.MaxShrinkAttempts})");
        }

        return problems;
    }

    /// <summary>Checks the invariant and throws when it does not hold.</summary>
    /// <param name="options">How many tests, which seed; defaults when <see langword="null"/>.</param>
    /// <exception cref="PolicyInvariantException">The invariant does not hold; the message has the minimal counterexample.</exception>
    /// <exception cref="ArgumentException">Some option is wrong; the message names every wrong property.</exception>
    public void Assert(PolicyCheckOptions? options = null) => Check(options).ThrowIfFailed();

    /// <summary>
    /// The invariant as an FsCheck property: FsCheck generates the calls, shrinks a failure with the same shrinker,
    /// and reports it with this invariant's words. Return it from an <c>[Property]</c> test.
    /// </summary>
    /// <returns>The property.</returns>
    public Property ToProperty() =>
        Prop.ForAll(Arb.From(_scenarios, PolicyGen.Shrink), scenario =>
            _violation(scenario) is { } violation
                ? false.Label("policy invariant violated: " + Description + "\n" + violation)
                : true.ToProperty());

    /// <inheritdoc/>
    public override string ToString() => Description;

    private (PolicyCall[] Smallest, string Message, int Steps) Shrink(PolicyCall[] failing, string message, int budget)
    {
        var steps = 0;
        var attempts = 0;
        var improved = true;
        while (improved && attempts < budget)
        {
            improved = false;
            foreach (var candidate in PolicyGen.Shrink(failing))
            {
                if (++attempts > budget)
                {
                    break;
                }

                if (_violation(candidate) is { } violation)
                {
                    failing = candidate;
                    message = violation;
                    steps++;
                    improved = true;
                    break;
                }
            }
        }

        return (failing, message, steps);
    }
}
