using PolicyEngine.Decisions;

namespace PolicyEngine;

// What the evaluator keeps on an identity so that evaluating a known caller builds nothing: the decisions of
// identity-only checks per policy, the counter keys per compiled limit, and the in-memory store's cell hint.
public sealed partial class PolicyIdentity
{
    // Counter keys built for this identity, per compiled limit: a copy-on-write array, so that evaluating a
    // limited call for a known identity builds no string. Bounded: a policy change only adds a few entries.
    private KeyValuePair<object, string>[] _counterKeys = [];
    private const int MaxCachedKeys = 32;

    // What identity-only checks decided for this identity, by the entry's memo slot, under the last two policies it
    // was evaluated with (two, so that a hot reload or two evaluators sharing identities do not rebuild it every call).
    private DecisionMemo? _memo;
    private DecisionMemo? _previousMemo;

    private sealed class DecisionMemo(Policy policy)
    {
        public Policy Policy { get; } = policy;

        public Verdict?[] Slots { get; } = new Verdict?[policy.IdentityMemoSlots];
    }

    private DecisionMemo? MemoFor(Policy policy)
    {
        var memo = Volatile.Read(ref _memo);
        if (memo is not null && ReferenceEquals(memo.Policy, policy))
        {
            return memo;
        }

        memo = Volatile.Read(ref _previousMemo);
        return memo is not null && ReferenceEquals(memo.Policy, policy) ? memo : null;
    }

    /// <summary>What the checks in memo slot <paramref name="slot"/> of <paramref name="policy"/> decided for this identity, if known.</summary>
    internal Verdict? Recall(Policy policy, int slot) =>
        MemoFor(policy) is { } memo ? Volatile.Read(ref memo.Slots[slot]) : null;

    /// <summary>Remembers a check result; a policy seen for the first time replaces the older of the two memos.</summary>
    internal void Remember(Policy policy, int slot, Verdict decision)
    {
        if (MemoFor(policy) is not { } memo)
        {
            memo = new DecisionMemo(policy);
            Volatile.Write(ref _previousMemo, Volatile.Read(ref _memo));
            Volatile.Write(ref _memo, memo);
        }

        // Racing writers store the same answer: checks are pure functions of an immutable identity.
        Volatile.Write(ref memo.Slots[slot], decision);
    }

    // The first limit this identity was counted under, and its key (when a store needed one), in the identity itself
    // (no further object to read on the hot path). The limit is claimed once, for good; the key is written when built.
    private object? _firstLimit;
    private string? _firstKey;

    // The in-memory store's cell for the first limit's grant counter (a hint the store checks before use: see
    // InMemoryCounterStore.ReserveGrant), so a grant-scoped limit's hot path skips the store's tables.
    private object? _firstCell;

    /// <summary>
    /// Whether <paramref name="limit"/> is the identity's first limit, claiming it when no limit is yet: the one whose
    /// key and store cell hint the identity keeps in place.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal bool HoldsFirstLimit(object limit) =>
        Volatile.Read(ref _firstLimit) is { } first ? ReferenceEquals(first, limit) : ClaimFirstLimit(limit);

    private bool ClaimFirstLimit(object limit) =>
        Interlocked.CompareExchange(ref _firstLimit, limit, null) is null || ReferenceEquals(Volatile.Read(ref _firstLimit), limit);

    /// <summary>The store's cell hint for the first limit (read and replaced by the store, racily: it is only a hint).</summary>
    internal ref object? FirstCounterCell => ref _firstCell;

    internal string? FindCounterKey(object limit)
    {
        if (ReferenceEquals(Volatile.Read(ref _firstLimit), limit))
        {
            return Volatile.Read(ref _firstKey);
        }

        foreach (var entry in Volatile.Read(ref _counterKeys))
        {
            if (ReferenceEquals(entry.Key, limit))
            {
                return entry.Value;
            }
        }

        return null;
    }

    internal void AddCounterKey(object limit, string key)
    {
        if (HoldsFirstLimit(limit))
        {
            // Racing writers store equal keys.
            Volatile.Write(ref _firstKey, key);
            return;
        }

        var current = Volatile.Read(ref _counterKeys);
        var next = current.Length >= MaxCachedKeys ? new KeyValuePair<object, string>[1] : new KeyValuePair<object, string>[current.Length + 1];
        if (current.Length < MaxCachedKeys)
        {
            Array.Copy(current, next, current.Length);
        }

        next[^1] = new KeyValuePair<object, string>(limit, key);

        // A lost race only loses a cache entry.
        Interlocked.CompareExchange(ref _counterKeys, next, current);
    }
}
