using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Microsoft.Extensions.Time.Testing;

namespace PolicyEngine.Tests.Counters;

/// <summary>
/// The exactness bound of <see cref="LeasingCounterStore"/>, as properties over random runs: K hosts, each with its own
/// leasing wrapper over one shared in-memory store, call at random instants (some stamped late, out of order), with
/// random costs, rollbacks, and one or two counters per call, while their return timers run. Never more than max admitted per window
/// (fixed) or per window length (sliding); every refusal is explained by what was admitted plus what leases hold; and
/// once every host is disposed the shared store holds exactly what was admitted (no unit is lost or invented).
/// </summary>
public class LeasingCounterStorePropertyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 14, 10, 0, 0, TimeSpan.Zero);

    /// <summary>One call: which host, how far the clock moves first (the hosts' timers run as it does), how late the
    /// call is stamped, its cost, whether it also charges the second counter, and whether it then fails (rollback).</summary>
    public sealed record Step(int Host, int AdvanceMs, int LateMs, int Amount, bool Both, bool Fails)
    {
        public override string ToString() => $"h{Host}+{AdvanceMs}{(LateMs > 0 ? "-" + LateMs : "")}x{Amount}{(Both ? "ab" : "a")}{(Fails ? "!" : "")}";
    }

    public sealed record Run(LimitAlgorithm Algorithm, long WindowMs, long MaxA, long MaxB, int Hosts, long LeaseSize, double Share, int LifetimeMs, Step[] Steps)
    {
        public override string ToString() =>
            $"{Algorithm} {WindowMs} ms, max a {MaxA} b {MaxB}, {Hosts} hosts, lease {LeaseSize} share {Share} lifetime {LifetimeMs} ms: [{string.Join(" ", Steps.Select(s => s.ToString()))}]";
    }

    private static Arbitrary<Run> Runs(bool lateSliding) =>
        (from algorithm in Gen.Elements(LimitAlgorithm.Fixed, LimitAlgorithm.Sliding)
         from windowMs in Gen.Elements(1_000L, 3_000L)
         from maxA in Gen.Choose(1, 30)
         from maxB in Gen.Choose(1, 60)
         from hosts in Gen.Choose(1, 4)
         from leaseSize in Gen.Choose(1, 12)
         from share in Gen.Elements(1.0, 0.5, 0.1)
         from lifetimeMs in Gen.Choose(200, 3_000)
         from steps in Gen.ListOf(
             from host in Gen.Choose(0, 3)
             from advance in Gen.Frequency((4, Gen.Choose(0, 20)), (1, Gen.Choose(0, 400)))
             from late in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(1, 150)))
             from amount in Gen.Frequency((5, Gen.Constant(1)), (1, Gen.Choose(0, 4)))
             from both in Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true)))
             from fails in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
             select new Step(host % hosts, advance, algorithm == LimitAlgorithm.Sliding && !lateSliding ? 0 : late, amount, both, fails))
         select new Run(algorithm, windowMs, maxA, maxB, hosts, leaseSize, share, lifetimeMs, [.. steps])).ToArbitrary();

    [Property(MaxTest = 400)]
    public Property Reserve_KHostsOneSharedStore_NeverAdmitMoreThanMaxAndLoseNoUnit() =>
        Prop.ForAll(Runs(lateSliding: true), run => Check(run, checkRefusals: false));

    [Property(MaxTest = 400)]
    public Property Reserve_KHostsOneSharedStore_RefuseOnlyWhenAdmittedAndLeasedUnitsLeaveNoRoom() =>
        Prop.ForAll(Runs(lateSliding: false), run => Check(run, checkRefusals: true));

    /// <summary>
    /// Replays <paramref name="run"/>; with <paramref name="checkRefusals"/>, also checks every refusal against the bound
    /// (sliding runs are then stamped in order: a late sliding caller may also be refused for units whose return came
    /// after their bucket stopped counting for newer callers, which is still under-admission but outside this formula).
    /// </summary>
    private static Property Check(Run run, bool checkRefusals)
    {
        var time = new FakeTimeProvider(T0);
        var inner = new InMemoryCounterStore();
        var options = new LeasingCounterStoreOptions { LeaseSize = run.LeaseSize, MaxLeaseShare = run.Share, MaxLeaseLifetime = TimeSpan.FromMilliseconds(run.LifetimeMs) };
        var hosts = Enumerable.Range(0, run.Hosts).Select(_ => new LeasingCounterStore(inner, options, time)).ToArray();
        var window = TimeSpan.FromMilliseconds(run.WindowMs);
        var a = new CounterRequest("a", 1, run.MaxA, window, run.Algorithm);
        var b = new CounterRequest("b", 1, run.MaxB, window, LimitAlgorithm.Fixed);
        var admitted = new Dictionary<string, List<(long At, long Amount)>> { ["a"] = [], ["b"] = [] };
        long t = 0;
        foreach (var step in run.Steps)
        {
            t += step.AdvanceMs;
            time.Advance(TimeSpan.FromMilliseconds(step.AdvanceMs));

            var at = Math.Max(0, t - step.LateMs);
            var now = T0.AddMilliseconds(at);
            CounterRequest[] call = step.Both ? [a with { Amount = step.Amount }, b with { Amount = step.Amount }] : [a with { Amount = step.Amount }];
            var result = hosts[step.Host].Reserve(call, now);
            if (result.Admitted)
            {
                if (step.Fails)
                {
                    hosts[step.Host].Release(result.Reservation!, now);
                }
                else
                {
                    foreach (var request in call)
                    {
                        admitted[request.Key].Add((now.ToUnixTimeMilliseconds(), request.Amount));
                    }
                }

                continue;
            }

            if (checkRefusals)
            {
                // The shared store refused what the limiting counter still needed: what was admitted in the buckets that
                // call counts, plus what every host's leases hold there, plus the call's amount, exceeds max.
                var limiting = call[result.LimitingIndex];
                var slot = CounterSlot.For(limiting, now.ToUnixTimeMilliseconds());
                var used = Counted(admitted[limiting.Key], limiting, slot);
                var held = hosts.Sum(host => host.Leased(limiting.Key, slot.Counts));
                if (used + held + limiting.Amount <= limiting.Max)
                {
                    return false.Label($"{run}: at {at} ms host {step.Host} was refused {limiting.Key} x{limiting.Amount} with {used} admitted and {held} leased of {limiting.Max}");
                }
            }
        }

        foreach (var request in new[] { a, b })
        {
            if (Overrun(admitted[request.Key], request) is { } overrun)
            {
                return false.Label($"{run}: {overrun}");
            }
        }

        // Every host gives back what it holds: the shared store then counts exactly what was admitted.
        var end = T0.AddMilliseconds(t);
        foreach (var host in hosts)
        {
            host.Dispose();
        }

        foreach (var request in new[] { a, b })
        {
            var slot = CounterSlot.For(request, end.ToUnixTimeMilliseconds());
            var expected = Counted(admitted[request.Key], request, slot);
            var stored = Used(inner, request, end);
            if (stored != expected)
            {
                return false.Label($"{run}: after dispose the shared store counts {stored} of {request.Key} at {t} ms, admitted {expected}");
            }
        }

        return true.ToProperty();
    }

    /// <summary>What was admitted in the buckets <paramref name="slot"/> counts.</summary>
    private static long Counted(List<(long At, long Amount)> log, CounterRequest request, CounterSlot slot)
    {
        long total = 0;
        foreach (var (at, amount) in log)
        {
            if (slot.Counts(CounterSlot.For(request, at).BucketStart))
            {
                total += amount;
            }
        }

        return total;
    }

    /// <summary>A fixed window holding more than max, or (sliding) any interval of one window length holding more.</summary>
    private static string? Overrun(List<(long At, long Amount)> log, CounterRequest request)
    {
        var windowMs = (long)request.Window.TotalMilliseconds;
        foreach (var (start, _) in log)
        {
            var from = request.Algorithm == LimitAlgorithm.Fixed ? start - (((start % windowMs) + windowMs) % windowMs) : start;
            var total = log.Where(e => e.At >= from && e.At < from + windowMs).Sum(e => e.Amount);
            if (total > request.Max)
            {
                return $"{total} of {request.Key} admitted in [{from}, {from + windowMs}) ms, max {request.Max}";
            }
        }

        return null;
    }

    /// <summary>How much of <paramref name="request"/>'s limit the store counts at <paramref name="now"/> (max less the largest amount that still fits).</summary>
    private static long Used(InMemoryCounterStore store, CounterRequest request, DateTimeOffset now)
    {
        long low = 0;
        var high = request.Max;
        while (low < high)
        {
            var middle = low + ((high - low + 1) / 2);
            if (store.Peek([request with { Amount = middle }], now).Admitted)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return request.Max - low;
    }
}
