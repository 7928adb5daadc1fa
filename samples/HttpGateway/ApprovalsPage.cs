using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using PolicyEngine.ModelContextProtocol;

namespace PolicyEngine.Samples.HttpGateway;

/// <summary>
/// The approvals page: approvers (a bearer token whose identity satisfies some rule's <c>approvers</c>) list the calls
/// waiting for them, approve or deny each with a comment, and read the history. Plain HTML forms, no script: every
/// post carries an antiforgery token, the session cookie is HttpOnly and SameSite=Strict, every value shown is
/// HTML-encoded, and no argument value appears but the ones the policy's <c>preview</c> opts into.
/// </summary>
public static class ApprovalsPage
{
    /// <summary>The cookie that carries an approver's token after they sign in on the page.</summary>
    public const string Cookie = "pe_approver";

    private const int PageSize = 25;

    public static void MapApprovalsPage(this WebApplication app)
    {
        app.MapGet("/approvals/login", (HttpContext context, IAntiforgery antiforgery) => Html(context, "Sign in", $"""
            <h1>Approvals: sign in</h1>
            <form method="post" action="/approvals/login">
              {Token(context, antiforgery)}
              <label>Bearer token <input type="password" name="token" autocomplete="off" required></label>
              <button type="submit">Sign in</button>
            </form>
            """));

        app.MapPost("/approvals/login", async (HttpContext context, IAntiforgery antiforgery, IConfiguration configuration) =>
        {
            if (!await IsValidPostAsync(context, antiforgery))
            {
                return Results.BadRequest("the form is stale or forged: reload the page");
            }

            var token = (await context.Request.ReadFormAsync()).TryGetValue("token", out var value) ? value.ToString().Trim() : "";
            if (BearerTokenHandler.Lookup(configuration, token) is null)
            {
                return Html(context, "Sign in", "<h1>Approvals: sign in</h1><p role=\"alert\">Unknown token.</p><p><a href=\"/approvals/login\">Try again</a></p>", StatusCodes.Status401Unauthorized);
            }

            context.Response.Cookies.Append(Cookie, token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/approvals",
                MaxAge = TimeSpan.FromHours(8),
            });
            return Results.Redirect("/approvals");
        });

        var pages = app.MapGroup("/approvals").RequireAuthorization();
        pages.MapGet("/", async (HttpContext context, PolicyGuard guard, IAntiforgery antiforgery, string? notice) =>
        {
            var viewer = guard.ResolveIdentity(context.User, context.RequestServices);
            if (!guard.Evaluator.IsApprover(viewer))
            {
                return Forbidden(context, viewer);
            }

            var pending = await guard.Evaluator.ListApprovalsAsync(new ApprovalQuery { Limit = 100 }, context.RequestAborted);
            var body = new StringBuilder();
            body.Append(CultureInfo.InvariantCulture, $"<h1>Pending approvals</h1><p>Signed in as <b>{E(viewer.Id)}</b>. <a href=\"/approvals/history\">History</a></p>");
            if (notice is { Length: > 0 })
            {
                body.Append(CultureInfo.InvariantCulture, $"<p role=\"status\" class=\"notice\">{E(notice)}</p>");
            }

            if (pending.Count == 0)
            {
                body.Append("<p id=\"empty\">Nothing is waiting for approval.</p>");
            }

            foreach (var request in pending)
            {
                body.Append(CultureInfo.InvariantCulture, $"""
                    <section class="request" id="request-{E(request.Id)}" data-request-id="{E(request.Id)}">
                      <h2>{E(request.Tool)} <small>called by {E(request.IdentityId)}</small></h2>
                      {Details(request)}
                    """);
                switch (guard.Evaluator.Authorize(viewer, request))
                {
                    case ApprovalOutcome.Approved:
                        body.Append(CultureInfo.InvariantCulture, $"""
                              <form method="post" action="/approvals/{E(request.Id)}">
                                {Token(context, antiforgery)}
                                <label>Comment <input type="text" name="comment" maxlength="{ApprovalVote.MaxCommentLength}"></label>
                                <button type="submit" name="decision" value="approve">Approve</button>
                                <button type="submit" name="decision" value="deny">Deny</button>
                              </form>
                            """);
                        break;
                    case ApprovalOutcome.SelfApproval:
                        body.Append("<p class=\"own\">This is your own call: another approver must decide.</p>");
                        break;
                    default:
                        body.Append("<p class=\"other\">You are not an approver for this rule.</p>");
                        break;
                }

                body.Append("</section>");
            }

            return Html(context, "Pending approvals", body.ToString());
        });

        pages.MapGet("/history", async (HttpContext context, PolicyGuard guard, int? page) =>
        {
            var viewer = guard.ResolveIdentity(context.User, context.RequestServices);
            if (!guard.Evaluator.IsApprover(viewer))
            {
                return Forbidden(context, viewer);
            }

            var number = Math.Max(0, page ?? 0);
            var requests = await guard.Evaluator.ListApprovalsAsync(new ApprovalQuery { Status = null, Offset = number * PageSize, Limit = PageSize + 1 }, context.RequestAborted);
            var body = new StringBuilder("<h1>Approval history</h1><p><a href=\"/approvals\">Pending</a></p><table><thead><tr><th>Status</th><th>Tool</th><th>Caller</th><th>Reason</th><th>Created (UTC)</th><th>Votes</th><th>Request</th></tr></thead><tbody>");
            foreach (var request in requests.Take(PageSize))
            {
                body.Append(CultureInfo.InvariantCulture, $"<tr class=\"history\" data-request-id=\"{E(request.Id)}\"><td class=\"status\">{E(PendingApproval.StatusName(request.StatusAt(DateTimeOffset.UtcNow)))}</td><td>{E(request.Tool)}</td><td>{E(request.IdentityId)}</td><td>{E(request.Reason)}</td><td>{E(Time(request.CreatedAt))}</td><td>{Votes(request)}</td><td><code>{E(request.Id)}</code></td></tr>");
            }

            body.Append("</tbody></table><p>");
            if (number > 0)
            {
                body.Append(CultureInfo.InvariantCulture, $"<a href=\"/approvals/history?page={number - 1}\">Newer</a> ");
            }

            if (requests.Count > PageSize)
            {
                body.Append(CultureInfo.InvariantCulture, $"<a href=\"/approvals/history?page={number + 1}\">Older</a>");
            }

            body.Append("</p>");
            return Html(context, "Approval history", body.ToString());
        });

        pages.MapPost("/{id}", async (HttpContext context, PolicyGuard guard, IAntiforgery antiforgery, string id) =>
        {
            if (!await IsValidPostAsync(context, antiforgery))
            {
                return Results.BadRequest("the form is stale or forged: reload the page");
            }

            var viewer = guard.ResolveIdentity(context.User, context.RequestServices);
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var comment = form.TryGetValue("comment", out var text) ? text.ToString() : null;
            var decision = form.TryGetValue("decision", out var choice) ? choice.ToString() : "";
            if (decision is not ("approve" or "deny"))
            {
                return Results.BadRequest("decision must be approve or deny");
            }

            var result = decision == "approve"
                ? await guard.Evaluator.ApproveAsync(id, viewer, comment, context.RequestAborted)
                : await guard.Evaluator.DenyAsync(id, viewer, comment, context.RequestAborted);
            return result.Outcome switch
            {
                ApprovalOutcome.Approved or ApprovalOutcome.Recorded or ApprovalOutcome.Denied =>
                    Results.Redirect("/approvals?notice=" + Uri.EscapeDataString($"{(decision == "approve" ? "Approved" : "Denied")}: {result.Request!.Tool} for {result.Request.IdentityId} ({result.Outcome.ToString().ToLowerInvariant()})")),
                ApprovalOutcome.NotAuthorized or ApprovalOutcome.SelfApproval =>
                    Html(context, "Forbidden", $"<h1>Forbidden</h1><p role=\"alert\">{E(Refusal(result.Outcome))}</p><p><a href=\"/approvals\">Back</a></p>", StatusCodes.Status403Forbidden),
                ApprovalOutcome.NotFound => Html(context, "Not found", "<h1>Not found</h1><p>No such request.</p>", StatusCodes.Status404NotFound),
                _ => Html(context, "Conflict", $"<h1>Not changed</h1><p role=\"alert\">{E(Refusal(result.Outcome))}</p><p><a href=\"/approvals\">Back</a></p>", StatusCodes.Status409Conflict),
            };
        });
    }

    private static string Refusal(ApprovalOutcome outcome) => outcome switch
    {
        ApprovalOutcome.SelfApproval => "You made this call: you cannot approve or deny it yourself.",
        ApprovalOutcome.NotAuthorized => "You are not one of this rule's approvers.",
        ApprovalOutcome.AlreadyVoted => "You already voted on this request; another approver must decide.",
        ApprovalOutcome.Expired => "The request expired before it was decided.",
        ApprovalOutcome.PolicyChanged => "The policy changed since the call was made; the agent must call again.",
        _ => "The request was already decided.",
    };

    private static string Details(PendingApproval request)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"<dl><dt>Reason</dt><dd class=\"reason\">{E(request.Reason)}</dd>");
        text.Append(CultureInfo.InvariantCulture, $"<dt>Requested</dt><dd>{E(Time(request.CreatedAt))} UTC, expires {E(Time(request.ExpiresAt))} UTC</dd>");
        text.Append(CultureInfo.InvariantCulture, $"<dt>Approvals</dt><dd>{request.Approvals} of {request.MinApprovers}{(request.Votes.Count > 0 ? ": " + Votes(request) : "")}</dd>");
        text.Append(CultureInfo.InvariantCulture, $"<dt>Arguments</dt><dd>{E(string.Join(", ", request.ArgumentNames))} <small>(SHA-256 <code>{E(request.ArgumentsSha256)}</code>)</small></dd>");
        if (request.Preview.Count > 0)
        {
            text.Append("<dt>Preview</dt><dd><ul class=\"preview\">");
            foreach (var (path, json) in request.Preview)
            {
                text.Append(CultureInfo.InvariantCulture, $"<li><code>{E(path)}</code> = <code>{E(json)}</code></li>");
            }

            text.Append("</ul></dd>");
        }

        text.Append(CultureInfo.InvariantCulture, $"<dt>Request id</dt><dd><code>{E(request.Id)}</code></dd></dl>");
        return text.ToString();
    }

    private static string Votes(PendingApproval request) =>
        string.Join("; ", request.Votes.Select(v => $"{E(v.ApproverId)} {(v.Approve ? "approved" : "denied")}{(v.Comment is null ? "" : ": " + E(v.Comment))}"));

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string E(string text) => HtmlEncoder.Default.Encode(text);

    private static string Token(HttpContext context, IAntiforgery antiforgery)
    {
        var tokens = antiforgery.GetAndStoreTokens(context);
        return $"<input type=\"hidden\" name=\"{E(tokens.FormFieldName)}\" value=\"{E(tokens.RequestToken ?? "")}\">";
    }

    private static async Task<bool> IsValidPostAsync(HttpContext context, IAntiforgery antiforgery)
    {
        if (!context.Request.HasFormContentType)
        {
            return false;
        }

        try
        {
            await antiforgery.ValidateRequestAsync(context);
            return true;
        }
        catch (AntiforgeryValidationException)
        {
            return false;
        }
    }

    private static IResult Forbidden(HttpContext context, PolicyIdentity viewer) =>
        Html(context, "Forbidden", $"<h1>Forbidden</h1><p role=\"alert\">{E(viewer.Id)} is not an approver under the policy in force.</p>", StatusCodes.Status403Forbidden);

    private static IResult Html(HttpContext context, string title, string body, int status = StatusCodes.Status200OK)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        return Results.Content($$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{{E(title)}}</title>
            <style>
              body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; max-width: 60rem; color: #1d1d1f; }
              section.request { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem 1rem; margin: 1rem 0; }
              dt { font-weight: 600; } dd { margin: 0 0 .4rem 0; } code { background: #f3f3f3; padding: 0 .2rem; }
              button { margin-left: .4rem; padding: .3rem .9rem; } .notice { background: #e8f5e9; padding: .5rem; }
              table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; }
            </style></head>
            <body>{{body}}</body></html>
            """, "text/html; charset=utf-8", Encoding.UTF8, status);
    }
}
