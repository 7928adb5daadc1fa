using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Claims;

namespace PolicyEngine.ModelContextProtocol;

/// <summary>
/// The identities of authenticated callers, one per distinct principal: a caller's repeated calls reuse one
/// <see cref="PolicyIdentity"/>, and with it what the evaluator keeps on an identity (the decisions of checks that
/// read only the identity, the counter keys and the in-memory store's cell hint), instead of building a new identity,
/// and serialising its claims, on every call.
/// </summary>
/// <remarks>
/// Two principals share an identity only when everything <see cref="PolicyIdentity.FromClaimsPrincipal"/> reads is
/// the same: the identity's name and every claim's type and value, in order. Bounded in entries and in size: a
/// principal whose claims take more than <see cref="MaxKeyLength"/> characters is not kept (its identity is made per
/// call, as without the cache), and when <see cref="Capacity"/> principals are held the cache starts again empty (a
/// caller's next call then makes its identity once more, which costs time, never correctness: decisions depend on an
/// identity's content, and counters on its id). Tokens that carry per-token claims (<c>jti</c>, <c>iat</c>) are new
/// principals each time they are refreshed; the bound keeps what they leave behind small.
/// </remarks>
internal sealed class PrincipalIdentities(string anonymousId)
{
    /// <summary>The most principals held at once.</summary>
    public const int Capacity = 4_096;

    /// <summary>The longest key kept, in characters (about 25 claims of a typical token); larger principals get a new identity per call.</summary>
    public const int MaxKeyLength = 2_048;

    private readonly ConcurrentDictionary<string, PolicyIdentity> _known = new(StringComparer.Ordinal);

    // Entries added since the last clear: ConcurrentDictionary.Count would take every one of its locks on each miss.
    private int _added;

    /// <summary>The identity of <paramref name="user"/>: the one made for an equal principal before, or a new one.</summary>
    public PolicyIdentity Resolve(ClaimsPrincipal user)
    {
        if (KeyOf(user) is not { } key)
        {
            return PolicyIdentity.FromClaimsPrincipal(user, anonymousId);
        }

        if (_known.TryGetValue(key, out var known))
        {
            return known;
        }

        var identity = PolicyIdentity.FromClaimsPrincipal(user, anonymousId);
        if (Interlocked.Increment(ref _added) > Capacity)
        {
            // Racing callers may each clear once; an entry added meanwhile is only lost, never wrong.
            Volatile.Write(ref _added, 1);
            _known.Clear();
        }

        return _known.GetOrAdd(key, identity);
    }

    /// <summary>
    /// Everything <see cref="PolicyIdentity.FromClaimsPrincipal"/> reads, each part written as <c>-</c> (absent) or its
    /// length, a colon and its characters: no two different principals get the same key. Written into a pooled buffer,
    /// so the key string is the one allocation; <see langword="null"/> past <see cref="MaxKeyLength"/>.
    /// </summary>
    private static string? KeyOf(ClaimsPrincipal user)
    {
        var buffer = ArrayPool<char>.Shared.Rent(512);
        var length = 0;
        try
        {
            Append(ref buffer, ref length, user.Identity?.Name);
            foreach (var claim in user.Claims)
            {
                Append(ref buffer, ref length, claim.Type);
                Append(ref buffer, ref length, claim.Value);
                if (length > MaxKeyLength)
                {
                    return null;
                }
            }

            return length > MaxKeyLength ? null : new string(buffer, 0, length);
        }
        finally
        {
            // The buffer held claim values: cleared before another renter sees it.
            ArrayPool<char>.Shared.Return(buffer, clearArray: true);
        }
    }

    private static void Append(ref char[] buffer, ref int length, string? part)
    {
        // At most 11 characters of length and colon, then the part.
        var needed = length + 12 + (part?.Length ?? 0);
        if (needed > buffer.Length)
        {
            var grown = ArrayPool<char>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
            buffer.AsSpan(0, length).CopyTo(grown);
            ArrayPool<char>.Shared.Return(buffer, clearArray: true);
            buffer = grown;
        }

        if (part is null)
        {
            buffer[length++] = '-';
            return;
        }

        part.Length.TryFormat(buffer.AsSpan(length), out var written, provider: CultureInfo.InvariantCulture);
        length += written;
        buffer[length++] = ':';
        part.CopyTo(buffer.AsSpan(length));
        length += part.Length;
    }
}
