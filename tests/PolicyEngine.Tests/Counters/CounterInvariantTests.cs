using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace PolicyEngine.Tests.Counters;

/// <summary>The invariants of issue 4, checked on the in-memory store with explicit instants.</summary>
public class CounterInvariantTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-03-14T10:00:00Z");

    [Fact]
    public void Reserve_EightThreadsTwoHundredThousandCalls_AdmitExactlyMaxPerWindow()
    {
        const int Threads = 8;
        const int Calls = 200_000;
        const int Max = 1_000;
        const int CallsPerWindow = 20_000; // ten windows, each offered twenty times its quota
        var store = new InMemoryCounterStore();
        var next = -1;
        var admitted = new int[Calls / CallsPerWindow];

        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            var request = new[] { new CounterRequest("shared", 1, Max, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed) };
            int call;
            while ((call = Interlocked.Increment(ref next)) < Calls)
            {
                var window = call / CallsPerWindow;
                var now = T0.AddMinutes(window).AddMilliseconds(call % CallsPerWindow);
                if (store.Reserve(request, now).Admitted)
                {
                    Interlocked.Increment(ref admitted[window]);
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.All(admitted, count => Assert.Equal(Max, count));
    }

    /// <summary>One step of a random run: when (ms after T0), how much, and whether the call then fails (rollback).</summary>
    public sealed record Step(int AtMs, int Amount, bool Fails);

    private static Arbitrary<(int Max, Step[] Steps)> Runs() =>
        (from max in Gen.Choose(1, 20)
         from steps in Gen.ListOf(
             from at in Gen.Choose(0, 300_000)
             from amount in Gen.Frequency((4, Gen.Constant(1)), (1, Gen.Choose(0, 8)))
             from fails in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
             select new Step(at, amount, fails))
         select (max, steps.OrderBy(s => s.AtMs).ToArray())).ToArbitrary();

    [Property(MaxTest = 300)]
    public Property Reserve_AnyRun_AdmitsAtMostMaxPerFixedWindowAndRollbacksNeverCreateQuota() =>
        Prop.ForAll(Runs(), run =>
        {
            var store = new InMemoryCounterStore();
            var spent = new Dictionary<long, long>();
            foreach (var step in run.Steps)
            {
                var now = T0.AddMilliseconds(step.AtMs);
                var window = step.AtMs / 60_000;
                var request = new[] { new CounterRequest("k", step.Amount, run.Max, TimeSpan.FromMinutes(1), LimitAlgorithm.Fixed) };
                var result = store.Reserve(request, now);
                var expected = spent.GetValueOrDefault(window) + step.Amount <= run.Max;
                if (result.Admitted != expected)
                {
                    return false.Label($"at {step.AtMs} ms: admitted {result.Admitted}, model says {expected}");
                }

                if (result.Admitted)
                {
                    spent[window] = spent.GetValueOrDefault(window) + step.Amount;
                    if (step.Fails)
                    {
                        store.Release(result.Reservation!, now);
                        spent[window] -= step.Amount;
                    }
                }
            }

            return true.ToProperty();
        });

    [Property(MaxTest = 200)]
    public Property Reserve_SlidingAnyRun_NeverMoreThanMaxInAnyWindowLength() =>
        Prop.ForAll(Runs(), run =>
        {
            var store = new InMemoryCounterStore();
            var log = new List<(int At, int Amount)>();
            foreach (var step in run.Steps)
            {
                var now = T0.AddMilliseconds(step.AtMs);
                var request = new[] { new CounterRequest("k", step.Amount, run.Max, TimeSpan.FromMinutes(1), LimitAlgorithm.Sliding) };
                var result = store.Reserve(request, now);
                if (!result.Admitted)
                {
                    continue;
                }

                if (step.Fails)
                {
                    store.Release(result.Reservation!, now);
                    continue;
                }

                log.Add((step.AtMs, step.Amount));
                var inWindow = log.Where(e => e.At > step.AtMs - 60_000).Sum(e => e.Amount);
                if (inWindow > run.Max)
                {
                    return false.Label($"{inWindow} admitted in the minute ending at {step.AtMs} ms (max {run.Max})");
                }
            }

            return true.ToProperty();
        });
}
