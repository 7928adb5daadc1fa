using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace PolicyEngine.Samples.HttpGateway;

/// <summary>One configured bearer token: the grant (identity id) it stands for and its roles.</summary>
public sealed class TokenGrant
{
    public string Id { get; set; } = "";

    public List<string> Roles { get; set; } = [];
}

/// <summary>
/// Authenticates <c>Authorization: Bearer TOKEN</c> against the tokens in configuration (<c>Gateway:Tokens</c>).
/// A real deployment would validate JWTs instead; the policy only sees the resulting claims.
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IConfiguration configuration)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        string token;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (Request.Path.StartsWithSegments("/approvals") && Request.Cookies.TryGetValue(ApprovalsPage.Cookie, out var cookie))
        {
            // The approvals page signs a person in with the same token, kept in an HttpOnly, SameSite=Strict cookie
            // scoped to /approvals (never accepted by the MCP endpoint). Its forms also carry an antiforgery token.
            token = cookie;
        }
        else
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var grant = Lookup(configuration, token);
        if (grant is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown bearer token"));
        }

        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, grant.Id), new(ClaimTypes.Name, grant.Id) };
        foreach (var role in grant.Roles)
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <summary>The grant a token stands for, or <see langword="null"/> for an unknown token.</summary>
    public static TokenGrant? Lookup(IConfiguration configuration, string token)
    {
        var grant = token.Length == 0 || token.Contains(':', StringComparison.Ordinal)
            ? null
            : configuration.GetSection($"Gateway:Tokens:{token}").Get<TokenGrant>();
        return grant is null || string.IsNullOrEmpty(grant.Id) ? null : grant;
    }

    /// <summary>
    /// 401 with <c>WWW-Authenticate: Bearer</c> (RFC 6750) and a line of text saying what is wrong: MCP clients show
    /// the body in their error (the TypeScript SDK's reads "Error POSTing to endpoint: BODY"), and an empty body
    /// leaves the person guessing.
    /// </summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Request.Path.StartsWithSegments("/approvals") && HttpMethods.IsGet(Request.Method))
        {
            // A person at a browser: the sign-in form, not a bare 401.
            Response.Redirect("/approvals/login");
            return;
        }

        var result = await HandleAuthenticateOnceSafeAsync();
        var missing = result.None;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = missing ? "Bearer" : "Bearer error=\"invalid_token\"";
        Response.ContentType = "text/plain; charset=utf-8";
        await Response.WriteAsync(missing
            ? "missing bearer token: send 'Authorization: Bearer TOKEN'"
            : "unknown bearer token");
    }
}
