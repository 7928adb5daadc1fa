using System.Security.Claims;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using PolicyEngine.ModelContextProtocol;

namespace PolicyEngine.ModelContextProtocol.Tests;

/// <summary>
/// An authenticated caller's identity is made once per distinct principal and reused by its later calls (so the
/// evaluator's memo and counter hints on it apply); two principals share one only when everything the identity is
/// made from is equal.
/// </summary>
public sealed class PrincipalIdentitiesTests : IDisposable
{
    private readonly PolicyGuard _guard = new(new PolicyEngineMcpOptions
    {
        Policy = Policy.Parse("""{ "version": "2", "default": "allow" }"""),
    });

    public void Dispose() => _guard.Dispose();

    private static ClaimsPrincipal Principal(string? nameClaimType, params (string Type, string Value)[] claims) =>
        new(new ClaimsIdentity(claims.Select(c => new Claim(c.Type, c.Value)), "test", nameClaimType ?? ClaimsIdentity.DefaultNameClaimType, ClaimTypes.Role));

    private static string Text(PolicyIdentity identity) => identity.Id + " " + identity.Attributes.GetRawText();

    [Fact]
    public void ResolveIdentity_EqualPrincipals_ShareOneIdentityMadeFromTheClaims()
    {
        var first = _guard.ResolveIdentity(Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"), (ClaimTypes.Role, "ops")), null);
        var second = _guard.ResolveIdentity(Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"), (ClaimTypes.Role, "ops")), null);

        Assert.Same(first, second);
        Assert.Equal(Text(PolicyIdentity.FromClaimsPrincipal(Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"), (ClaimTypes.Role, "ops")), "anonymous")), Text(first));
    }

    [Fact]
    public void ResolveIdentity_PrincipalsDifferingInAnything_GetTheirOwnIdentities()
    {
        ClaimsPrincipal[] principals =
        [
            Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev")),
            Principal(null, ("sub", "alice"), (ClaimTypes.Role, "admin")),
            Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"), (ClaimTypes.Role, "ops")),
            Principal(null, ("sub", "alice"), (ClaimTypes.Role, "ops"), (ClaimTypes.Role, "dev")),
            Principal(null, ("sub", "bob"), (ClaimTypes.Role, "dev")),
            Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"), ("tenant", "acme")),

            // The same claims, but a different claim names the identity: its name differs.
            Principal(null, ("name", "x"), ("nick", "y")),
            Principal("nick", ("name", "x"), ("nick", "y")),

            // Where one part ends cannot be moved: the same characters split differently are different claims.
            Principal(null, ("ab", "c")),
            Principal(null, ("a", "bc")),
            Principal(null, ("a", "")),
            Principal(null, ("", "a")),
            Principal(null, ("a", "1:b"), ("c", "d")),
            Principal(null, ("a", "1"), ("b", "c:d")),
        ];

        var identities = principals.Select(p => _guard.ResolveIdentity(p, null)).ToArray();

        Assert.Equal(identities.Length, identities.Distinct(ReferenceEqualityComparer.Instance).Count());
        for (var i = 0; i < principals.Length; i++)
        {
            Assert.Equal(Text(PolicyIdentity.FromClaimsPrincipal(principals[i], "anonymous")), Text(identities[i]));
        }
    }

    [Fact]
    public void ResolveIdentity_PrincipalOverTheSizeBound_GetsItsIdentityPerCall()
    {
        // Not kept (the cache's memory is bounded), but made exactly as FromClaimsPrincipal makes it.
        var large = Principal(null, [("sub", "alice"), .. Enumerable.Range(0, 200).Select(i => ("group", "g-" + i.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)))]);

        var first = _guard.ResolveIdentity(large, null);
        var second = _guard.ResolveIdentity(large, null);

        Assert.NotSame(first, second);
        Assert.Equal(Text(PolicyIdentity.FromClaimsPrincipal(large, "anonymous")), Text(first));
    }

    [Fact]
    public void ResolveIdentity_MorePrincipalsThanTheCapacity_StartsAgainAndStaysCorrect()
    {
        var alice = Principal(null, ("sub", "alice"), (ClaimTypes.Role, "dev"));
        var before = _guard.ResolveIdentity(alice, null);
        for (var i = 0; i < 5_000; i++)
        {
            _guard.ResolveIdentity(Principal(null, ("sub", "user-" + i)), null);
        }

        var after = _guard.ResolveIdentity(alice, null);

        Assert.NotSame(before, after);
        Assert.Equal(Text(before), Text(after));
        Assert.Same(after, _guard.ResolveIdentity(alice, null));
    }

    [Fact]
    public void ResolveIdentity_Unauthenticated_IsTheDefaultIdentity()
    {
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "mallory")]));

        Assert.Equal("anonymous", _guard.ResolveIdentity(anonymous, null).Id);
        Assert.Same(_guard.ResolveIdentity(null, null), _guard.ResolveIdentity(anonymous, null));
    }

    // Few and short, so that different lists often spell the same characters (a key that only concatenated would meet).
    private static readonly string[] Pieces = ["", "a", "1", ":", "-", "1:", "\uD800"];

    private static Arbitrary<(string Type, string Value)[]> Claims() =>
        Gen.ListOf(from type in Gen.Elements(Pieces) from value in Gen.Elements(Pieces) select (type, value))
            .Select(list => list.Take(3).ToArray())
            .ToArbitrary();

    [Property(MaxTest = 500)]
    public Property ResolveIdentity_TwoPrincipals_ShareAnIdentityExactlyWhenTheirClaimsAreEqual() =>
        Prop.ForAll(Claims(), Claims(), (left, right) =>
        {
            var a = _guard.ResolveIdentity(Principal(null, left), null);
            var b = _guard.ResolveIdentity(Principal(null, right), null);
            return ReferenceEquals(a, b) == left.SequenceEqual(right);
        });

    /// <summary>The same characters, one of them moved across the boundary between two neighbouring parts.</summary>
    private static (string Type, string Value)[] Shifted((string Type, string Value)[] claims, int at)
    {
        var parts = claims.SelectMany(c => new[] { c.Type, c.Value }).ToArray();
        var i = at % Math.Max(1, parts.Length - 1);
        if (parts.Length >= 2 && parts[i].Length > 0)
        {
            parts[i + 1] = parts[i][^1] + parts[i + 1];
            parts[i] = parts[i][..^1];
        }

        return [.. Enumerable.Range(0, parts.Length / 2).Select(k => (parts[2 * k], parts[(2 * k) + 1]))];
    }

    [Property(MaxTest = 500)]
    public Property ResolveIdentity_SameCharactersSplitElsewhere_GetTheirOwnIdentities() =>
        Prop.ForAll(Claims(), Gen.Choose(0, 100).ToArbitrary(), (claims, at) =>
        {
            var shifted = Shifted(claims, at);
            var a = _guard.ResolveIdentity(Principal(null, claims), null);
            var b = _guard.ResolveIdentity(Principal(null, shifted), null);
            return ReferenceEquals(a, b) == claims.SequenceEqual(shifted);
        });
}
