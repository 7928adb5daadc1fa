using PolicyEngine.Evaluation;
using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;

namespace PolicyEngine;

/// <summary>
/// Who is calling: an <see cref="Id"/> (the grant or subject that <c>scope: "grant"</c> counters are keyed by) and
/// optional attributes (roles, groups, claims) that predicates read as <c>identity.&lt;name&gt;</c>;
/// <c>identity.id</c> is the id. Build one per caller or session and reuse it: evaluating reads it without allocating.
/// </summary>
public sealed class PolicyIdentity
{
    /// <summary>Creates an identity with no attributes other than its id.</summary>
    /// <param name="id">The grant or subject id; may be empty but not <see langword="null"/>.</param>
    public PolicyIdentity(string id)
        : this(id, (IReadOnlyDictionary<string, JsonElement>?)null)
    {
    }

    /// <summary>Creates an identity with attributes.</summary>
    /// <param name="id">The grant or subject id.</param>
    /// <param name="attributes">Attributes readable as <c>identity.&lt;name&gt;</c>; an <c>id</c> attribute is ignored in favour of <paramref name="id"/>.</param>
    public PolicyIdentity(string id, IReadOnlyDictionary<string, JsonElement>? attributes)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        Attributes = Evaluation.JsonObjects.Create(id, attributes);

        // Indexes built once so identity paths cost a hash lookup, and "roles contains admin" a set lookup.
        var table = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var sets = new Dictionary<string, FrozenSet<string>>(StringComparer.Ordinal);
        foreach (var property in Attributes.EnumerateObject())
        {
            var name = Compilation.StringValue.GetName(property);
            table[name] = property.Value;
            if (property.Value.ValueKind == JsonValueKind.Array && StringSet(property.Value) is { } set)
            {
                sets[name] = set;
            }
        }

        Table = table.ToFrozenDictionary(StringComparer.Ordinal);
        StringSets = sets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The attributes by name (including <c>id</c>).</summary>
    internal FrozenDictionary<string, JsonElement> Table { get; }

    /// <summary>Attributes that are arrays of plain strings, as sets.</summary>
    internal FrozenDictionary<string, FrozenSet<string>> StringSets { get; }

    private static FrozenSet<string>? StringSet(JsonElement array)
    {
        var items = new List<string>();
        foreach (var item in array.EnumerateArray())
        {
            // Only unescaped strings: their text is exactly what ordinal comparison of the JSON value sees.
            if (item.ValueKind != JsonValueKind.String || !Compilation.StringValue.TryGetUnescapedUtf8(item, out var utf8))
            {
                return null;
            }

            items.Add(System.Text.Encoding.UTF8.GetString(utf8));
        }

        return items.ToFrozenSet(StringComparer.Ordinal);
    }

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

    /// <summary>The grant or subject id.</summary>
    public string Id { get; }

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

    /// <summary>The identity as the JSON object that <c>identity.</c> paths walk: <c>{ "id": ..., attributes... }</c>.</summary>
    public JsonElement Attributes { get; }

    /// <summary>An identity with roles, readable as <c>identity.roles</c> (an array of strings).</summary>
    /// <param name="id">The grant or subject id.</param>
    /// <param name="roles">The roles.</param>
    /// <returns>The identity.</returns>
    public static PolicyIdentity WithRoles(string id, params string[] roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        return new PolicyIdentity(id, new Dictionary<string, JsonElement> { ["roles"] = JsonSerializer.SerializeToElement(roles) });
    }

    /// <summary>
    /// Maps a <see cref="ClaimsPrincipal"/>: the id is the NameIdentifier (or <c>sub</c>) claim, else the principal's
    /// name; role claims become <c>identity.roles</c>; every other claim becomes <c>identity.&lt;short claim type&gt;</c>
    /// (a string, or an array when the claim repeats).
    /// </summary>
    /// <param name="principal">The authenticated caller.</param>
    /// <param name="anonymousId">The id used when the principal has no identifying claim.</param>
    /// <returns>The identity.</returns>
    public static PolicyIdentity FromClaimsPrincipal(ClaimsPrincipal principal, string anonymousId = "anonymous")
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(anonymousId);
        var id = principal.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? principal.FindFirst("sub")?.Value
            ?? principal.Identity?.Name
            ?? anonymousId;

        var values = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var claim in principal.Claims)
        {
            var name = ShortName(claim.Type);
            if (!values.TryGetValue(name, out var list))
            {
                values[name] = list = [];
            }

            list.Add(claim.Value);
        }

        var attributes = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, list) in values)
        {
            attributes[name] = name == "roles" || list.Count > 1
                ? JsonSerializer.SerializeToElement(list)
                : JsonSerializer.SerializeToElement(list[0]);
        }

        return new PolicyIdentity(id, attributes);
    }

    private static string ShortName(string claimType)
    {
        if (claimType is ClaimTypes.Role or "role" or "roles")
        {
            return "roles";
        }

        if (claimType is "groups" or "group" or ClaimTypes.GroupSid)
        {
            return "groups";
        }

        var slash = claimType.LastIndexOf('/');
        return slash >= 0 && slash < claimType.Length - 1 ? claimType[(slash + 1)..] : claimType;
    }

    /// <summary>The id.</summary>
    /// <returns>The id.</returns>
    public override string ToString() => Id;
}
