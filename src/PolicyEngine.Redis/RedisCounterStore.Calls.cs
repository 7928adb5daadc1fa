using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace PolicyEngine.Redis;

// The store, part 2 of 3: preparing a reservation, one script call (with its NOSCRIPT and TRYAGAIN handling), and
// reading its reply.
public sealed partial class RedisCounterStore
{
    private const int ValuesPerRequest = 6;
    private const int HeaderValues = 3;

    /// <summary>First pause before retrying a <c>TRYAGAIN</c> (doubled on each retry, within the store timeout).</summary>
    private static readonly TimeSpan TryAgainPause = TimeSpan.FromMilliseconds(2);

    private CounterResult Run(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        var call = Prepare(requests, now, commit);
        if (call.Windows.Length == 0)
        {
            return Empty(commit);
        }

        if (call.SpansSlots)
        {
            return RunAcrossSlots(call, now);
        }

        var result = Evaluate(CounterScripts.Reserve, call.Keys, call.Values);
        return Read(result, call.Windows, null, now) is { } refusal
            ? CounterResult.Limited(refusal.Index, refusal.RetryAfter)
            : Admitted(call);
    }

    private ValueTask<CounterResult> RunAsync(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit, CancellationToken cancellationToken)
    {
        var call = Prepare(requests, now, commit);
        if (call.Windows.Length == 0)
        {
            return ValueTask.FromResult(Empty(commit));
        }

        return call.SpansSlots ? RunAcrossSlotsAsync(call, now, cancellationToken) : RunInOneSlotAsync(call, now, cancellationToken);
    }

    private async ValueTask<CounterResult> RunInOneSlotAsync(ReserveCall call, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The common case awaits the EVALSHA itself (one state machine per call); NOSCRIPT and TRYAGAIN take the
        // general path, which retries.
        RedisResult result;
        try
        {
            result = await _database.ScriptEvaluateAsync(CounterScripts.Reserve.Sha1, call.Keys, call.Values).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (IsNoScript(ex) || IsTryAgain(ex))
        {
            result = await EvaluateAsync(CounterScripts.Reserve, call.Keys, call.Values, cancellationToken).ConfigureAwait(false);
        }

        return Read(result, call.Windows, null, now) is { } refusal
            ? CounterResult.Limited(refusal.Index, refusal.RetryAfter)
            : Admitted(call);
    }

    /// <summary>The keys and arguments of the reservation script for <paramref name="requests"/> (for the load console's raw baseline).</summary>
    internal (byte[] ScriptSha1, string ScriptText, RedisKey[] Keys, RedisValue[] Values) ReserveScriptCall(IReadOnlyList<CounterRequest> requests, DateTimeOffset now)
    {
        var call = Prepare(requests, now, commit: true);
        Debug.Assert(!call.SpansSlots, "the load console's raw baseline names counters of one slot");
        return (CounterScripts.Reserve.Sha1, CounterScripts.Reserve.Text, call.Keys, call.Values);
    }

    private static CounterResult Empty(bool commit) => CounterResult.Success(commit ? new CounterReservation([]) : null);

    private static CounterResult Admitted(ReserveCall call)
    {
        if (!call.Commit)
        {
            return CounterResult.Success(null);
        }

        var charges = new CounterCharge[call.Windows.Length];
        for (var i = 0; i < charges.Length; i++)
        {
            charges[i] = call.Windows[i].ToCharge();
        }

        return CounterResult.Success(new CounterReservation(charges));
    }

    private ReserveCall Prepare(IReadOnlyList<CounterRequest> requests, DateTimeOffset now, bool commit)
    {
        var count = requests.Count;
        var nowMs = now.ToUnixTimeMilliseconds();
        var windows = new CounterSlot[count];
        var keys = new RedisKey[count];
        var slots = _sharded && count > 1 ? new int[count] : null;
        var spansSlots = false;
        var values = new RedisValue[HeaderValues + (count * ValuesPerRequest)];
        values[0] = commit ? 1 : 0;
        values[1] = nowMs;
        values[2] = _maxSkewMs;
        for (var i = 0; i < count; i++)
        {
            var request = requests[i];
            var window = CounterSlot.For(request, nowMs);
            windows[i] = window;
            var stored = KeyOf(request.Key);
            keys[i] = stored.Key;
            if (slots is not null)
            {
                slots[i] = stored.Slot;
                spansSlots |= stored.Slot != slots[0];
            }

            // The key must outlive this charge until the bucket stops counting, plus one more window (a call stamped
            // slightly earlier may still arrive and read it), plus the skew allowance; measured from the server's now.
            var keepUntil = CounterSlot.SaturatingAdd(window.ExpiresAt, window.WindowLength);
            var ttl = CounterSlot.SaturatingAdd(Math.Max(1, keepUntil - nowMs), _allowanceMs);
            var at = HeaderValues + (i * ValuesPerRequest);
            values[at] = request.Amount;
            values[at + 1] = request.Max >= long.MinValue + request.Amount ? request.Max - request.Amount : long.MinValue;
            values[at + 2] = window.BucketStart;
            values[at + 3] = window.ReadFrom;
            values[at + 4] = window.ReadFrom - window.WindowLength;
            values[at + 5] = ttl;
        }

        return new ReserveCall(windows, keys, values, spansSlots ? slots : null, commit);
    }

    /// <summary>
    /// Reads the reservation script's reply: <see langword="null"/> when every counter had room, otherwise the refused
    /// request (an index into the call's requests: <paramref name="indices"/> maps a slot group's own order to them)
    /// and its retry-after.
    /// </summary>
    private static Refusal? Read(RedisResult result, CounterSlot[] windows, int[]? indices, DateTimeOffset now)
    {
        if (result.Resp2Type == ResultType.Integer)
        {
            if ((long)result != 1)
            {
                throw new InvalidOperationException("the counter script returned an unexpected reply");
            }

            return null;
        }

        var reply = (RedisResult[])result!;
        if (reply.Length < 2 || (string?)reply[0] != "0")
        {
            throw new InvalidOperationException("the counter script returned an unexpected reply");
        }

        var local = int.Parse((string)reply[1]!, NumberStyles.None, CultureInfo.InvariantCulture);
        var index = indices is null ? local : indices[local];

        // Stamped behind the horizon (as the in-memory store does): the reply names the horizon before the buckets.
        var horizon = long.MinValue;
        var first = 2;
        if (reply.Length >= 4 && (string?)reply[2] == "h")
        {
            horizon = ParseLong((string)reply[3]!);
            first = 4;
        }

        var buckets = new (long Start, long Count)[(reply.Length - first) / 2];
        for (var i = 0; i < buckets.Length; i++)
        {
            buckets[i] = (ParseLong((string)reply[first + (2 * i)]!), ParseLong((string)reply[first + 1 + (2 * i)]!));
        }

        return new Refusal(index, windows[index].RetryAfter(now.ToUnixTimeMilliseconds(), horizon, buckets));
    }

    /// <summary>Parses a stored decimal, saturating at <see cref="long.MaxValue"/> (stored counts never exceed it).</summary>
    private static long ParseLong(string text) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value
        : text.StartsWith('-') ? long.MinValue : long.MaxValue;

    private ReleaseCall? PrepareRelease(CounterReservation reservation, DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var charges = reservation.Charges;
        var live = 0;
        foreach (var charge in charges)
        {
            if (charge.Amount > 0 && nowMs < charge.WindowEnd)
            {
                live++;
            }
        }

        if (live == 0)
        {
            return null;
        }

        var keys = new RedisKey[live];
        var slots = _sharded && live > 1 ? new int[live] : null;
        var spansSlots = false;
        var values = new RedisValue[live * 2];
        var i = 0;
        foreach (var charge in charges)
        {
            // A window that is over is left alone: a rollback never touches a later window.
            if (charge.Amount > 0 && nowMs < charge.WindowEnd)
            {
                var stored = KeyOf(charge.Key);
                keys[i] = stored.Key;
                if (slots is not null)
                {
                    slots[i] = stored.Slot;
                    spansSlots |= stored.Slot != slots[0];
                }

                values[2 * i] = charge.Amount;
                values[(2 * i) + 1] = charge.WindowStart;
                i++;
            }
        }

        return new ReleaseCall(keys, values, spansSlots ? SlotGroup.Split(slots!) : null);
    }

    /// <summary>
    /// EVALSHA; on NOSCRIPT (first use on this server, or it restarted or flushed its scripts) EVAL, which reloads it;
    /// on TRYAGAIN (Redis Cluster is migrating the slot and holds only some of the keys on one side) a short pause and
    /// another try, within the timeout. Redis refuses such a call before running it, so retrying never charges twice.
    /// </summary>
    private RedisResult Evaluate(CounterScripts.Script script, RedisKey[] keys, RedisValue[] values)
    {
        var pause = TryAgainPause;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                try
                {
                    return _database.ScriptEvaluate(script.Sha1, keys, values);
                }
                catch (RedisServerException ex) when (IsNoScript(ex))
                {
                    return _database.ScriptEvaluate(script.Text, keys, values);
                }
            }
            catch (RedisServerException ex) when (IsTryAgain(ex) && Stopwatch.GetElapsedTime(started) + pause < _timeout)
            {
                Thread.Sleep(pause);
                pause += pause;
            }
        }
    }

    private async Task<RedisResult> EvaluateAsync(CounterScripts.Script script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        var pause = TryAgainPause;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                try
                {
                    return await _database.ScriptEvaluateAsync(script.Sha1, keys, values).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
                }
                catch (RedisServerException ex) when (IsNoScript(ex))
                {
                    return await _database.ScriptEvaluateAsync(script.Text, keys, values).WaitAsync(_timeout, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RedisServerException ex) when (IsTryAgain(ex) && Stopwatch.GetElapsedTime(started) + pause < _timeout)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                pause += pause;
            }
        }
    }

    internal static bool IsNoScript(RedisServerException ex) => ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    internal static bool IsTryAgain(RedisServerException ex) => ex.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal);

    /// <summary>
    /// A prepared reservation or peek: per request its window and Redis key, the script's arguments, and — only when the
    /// requests span several hash slots — per request its slot.
    /// </summary>
    private sealed record ReserveCall(CounterSlot[] Windows, RedisKey[] Keys, RedisValue[] Values, int[]? Slots, bool Commit)
    {
        public bool SpansSlots => Slots is not null;
    }

    /// <summary>A prepared rollback; <paramref name="Groups"/> is set when its charges span several hash slots.</summary>
    private sealed record ReleaseCall(RedisKey[] Keys, RedisValue[] Values, SlotGroup[]? Groups);

    /// <summary>A refused request (an index into the call's requests) and its retry-after.</summary>
    private readonly record struct Refusal(int Index, TimeSpan RetryAfter);
}
