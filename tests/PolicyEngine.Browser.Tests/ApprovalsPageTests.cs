using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;
using ModelContextProtocol.Client;

namespace PolicyEngine.Browser.Tests;

/// <summary>
/// The approvals page of samples/HttpGateway in a real headless Chromium: an agent's call goes pending, an approver
/// approves it on the page, and the agent's retry runs once and only once; a non-approver gets 403; the caller cannot
/// approve its own call; a post without the antiforgery token changes nothing.
/// </summary>
public sealed class ApprovalsPageTests(Chromium chromium) : IClassFixture<Chromium>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, object?> Transfer(long amount) =>
        new() { ["to"] = "acct-9", ["amount"] = amount, ["memo"] = "SECRET-MEMO-" + amount.ToString(CultureInfo.InvariantCulture) };

    private async Task<(IBrowserContext Context, IPage Page)> SignInAsync(Gateway gateway, string token)
    {
        var context = await chromium.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = gateway.Root.ToString(), ViewportSize = new ViewportSize { Width = 1100, Height = 900 } });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(60_000);
        page.SetDefaultNavigationTimeout(60_000);
        await page.GotoAsync("/approvals");
        Assert.EndsWith("/approvals/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=token]", token);
        await page.ClickAsync("button[type=submit]");

        // The click only starts the sign-in post; its redirect to the list (or the refusal page) is the page a test
        // reads next. Waiting for a load state here returned at once for the login page already loaded, and a
        // navigation begun right after raced the post and its cookie.
        await page.WaitForURLAsync("**/approvals", new PageWaitForURLOptions { WaitUntil = WaitUntilState.DOMContentLoaded });
        return (context, page);
    }

    /// <summary>
    /// The page a vote lands on: the list with its notice after the redirect, or a refusal; its text, with the URL
    /// and body when neither appears (so a failure says what the browser saw).
    /// </summary>
    private static async Task<string> OutcomeAsync(IPage page)
    {
        var outcome = page.Locator("p.notice, [role=alert]");
        try
        {
            await outcome.First.WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no outcome after the vote; at {page.Url}: {await page.InnerTextAsync("body")}");
        }

        return await outcome.First.InnerTextAsync();
    }

    /// <summary>A valid antiforgery token for the signed-in person, read from a form the page serves them.</summary>
    private static async Task<string> FormTokenAsync(IPage page)
    {
        await page.GotoAsync("/approvals/login");
        return (await page.Locator("input[name=__RequestVerificationToken]").GetAttributeAsync("value"))!;
    }

    private static async Task<IAPIResponse> PostDecisionAsync(IBrowserContext context, string id, string decision, string? token)
    {
        var form = context.APIRequest.CreateFormData();
        form.Set("decision", decision);
        if (token is not null)
        {
            form.Set("__RequestVerificationToken", token);
        }

        return await context.APIRequest.PostAsync($"/approvals/{id}", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
    }

    [Fact]
    public async Task PendingCall_ApprovedOnThePage_RetryRunsExactlyOnce()
    {
        chromium.SkipWithoutBrowser();
        await using var gateway = await Gateway.StartAsync();
        await using var agent = await gateway.ConnectAsync("alice-token");

        var first = await agent.CallToolAsync("transfer_funds", Transfer(12500), cancellationToken: Ct);
        var id = Gateway.RequestId(first);
        Assert.Contains("approvals page", Gateway.Text(first), StringComparison.Ordinal);

        var (context, page) = await SignInAsync(gateway, "carol-token");
        await using var _ = context;
        var request = page.Locator($"section[data-request-id='{id}']");
        await request.WaitForAsync();
        var shown = await request.InnerTextAsync();
        Assert.Contains("transfer_funds", shown, StringComparison.Ordinal);
        Assert.Contains("alice", shown, StringComparison.Ordinal);
        Assert.Contains("every transfer needs an approver", shown, StringComparison.Ordinal);
        Assert.Contains("\"acct-9\"", shown, StringComparison.Ordinal);
        Assert.Contains("12500", shown, StringComparison.Ordinal);
        Assert.Contains("memo", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-MEMO", await page.ContentAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.OutputDirectory, "approvals-page.png"), FullPage = true });

        await request.Locator("input[name=comment]").FillAsync("invoice 4711 checked");
        await request.Locator("button[value=approve]").ClickAsync();
        Assert.Contains("Approved: transfer_funds for alice", await OutcomeAsync(page), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator($"section[data-request-id='{id}']").CountAsync());

        var retried = await agent.CallToolAsync("transfer_funds", Transfer(12500), cancellationToken: Ct);
        Assert.Equal("transferred 12500 to acct-9", Gateway.Text(retried));
        var again = await agent.CallToolAsync("transfer_funds", Transfer(12500), cancellationToken: Ct);
        Assert.NotEqual(id, Gateway.RequestId(again));

        await page.GotoAsync("/approvals/history");
        var row = page.Locator($"tr.history[data-request-id='{id}']");
        Assert.Equal("consumed", await row.Locator("td.status").InnerTextAsync());
        Assert.Contains("carol approved: invoice 4711 checked", await row.InnerTextAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Chromium.OutputDirectory, "approvals-history.png"), FullPage = true });
    }

    [Fact]
    public async Task NonApprover_Gets403_OnThePageAndOnAPost()
    {
        chromium.SkipWithoutBrowser();
        await using var gateway = await Gateway.StartAsync();
        await using var agent = await gateway.ConnectAsync("alice-token");
        var id = Gateway.RequestId(await agent.CallToolAsync("transfer_funds", Transfer(300), cancellationToken: Ct));

        var (context, page) = await SignInAsync(gateway, "bob-token");
        await using var _ = context;
        var response = await page.GotoAsync("/approvals");
        Assert.Equal(403, response!.Status);
        Assert.Contains("bob is not an approver", await page.InnerTextAsync("body"), StringComparison.Ordinal);

        var post = await PostDecisionAsync(context, id, "approve", await FormTokenAsync(page));
        Assert.Equal(403, post.Status);
        Assert.True(Gateway.Text(await agent.CallToolAsync("transfer_funds", Transfer(300), cancellationToken: Ct)).Contains(id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Caller_CannotApproveItsOwnCall_OnThePage()
    {
        chromium.SkipWithoutBrowser();
        await using var gateway = await Gateway.StartAsync();
        await using var agent = await gateway.ConnectAsync("dave-token");
        var id = Gateway.RequestId(await agent.CallToolAsync("transfer_funds", Transfer(700), cancellationToken: Ct));

        var (context, page) = await SignInAsync(gateway, "dave-token");
        await using var _ = context;
        var request = page.Locator($"section[data-request-id='{id}']");
        await request.WaitForAsync();
        Assert.Equal(0, await request.Locator("button").CountAsync());
        Assert.Contains("your own call", await request.InnerTextAsync(), StringComparison.Ordinal);

        var post = await PostDecisionAsync(context, id, "approve", await FormTokenAsync(page));
        Assert.Equal(403, post.Status);
        Assert.Contains("cannot approve or deny it yourself", await post.TextAsync(), StringComparison.Ordinal);
        Assert.Equal(id, Gateway.RequestId(await agent.CallToolAsync("transfer_funds", Transfer(700), cancellationToken: Ct)));
    }

    [Fact]
    public async Task Post_WithoutTheAntiforgeryToken_ChangesNothing()
    {
        chromium.SkipWithoutBrowser();
        await using var gateway = await Gateway.StartAsync();
        await using var agent = await gateway.ConnectAsync("alice-token");
        var id = Gateway.RequestId(await agent.CallToolAsync("transfer_funds", Transfer(900), cancellationToken: Ct));

        var (context, page) = await SignInAsync(gateway, "carol-token");
        await using var _ = context;
        var forged = await PostDecisionAsync(context, id, "approve", token: null);
        var wrong = await PostDecisionAsync(context, id, "approve", token: "not-a-token");

        Assert.Equal(400, forged.Status);
        Assert.Equal(400, wrong.Status);
        Assert.Equal(id, Gateway.RequestId(await agent.CallToolAsync("transfer_funds", Transfer(900), cancellationToken: Ct)));
    }

    [Fact]
    public async Task HeldCall_AnswersWhenTheApproverClicks_DelayMeasured()
    {
        chromium.SkipWithoutBrowser();
        await using var gateway = await Gateway.StartAsync("--PolicyEngine:ApprovalWait", "Hold", "--PolicyEngine:ApprovalProgressInterval", "00:00:01");
        await using var agent = await gateway.ConnectAsync("alice-token");
        var (context, page) = await SignInAsync(gateway, "carol-token");
        await using var _ = context;
        var delays = new List<double>();
        for (var round = 1; round <= 5; round++)
        {
            var amount = 1000 + round;
            var held = agent.CallToolAsync("transfer_funds", Transfer(amount), cancellationToken: Ct).AsTask();
            var button = page.Locator("section.request button[value=approve]");
            for (var attempt = 0; await button.CountAsync() == 0; attempt++)
            {
                Assert.True(attempt < 240, "the held call never showed up on the page");
                Assert.False(held.IsCompleted, "the held call answered before anyone approved it");
                await Task.Delay(250, Ct);
                await page.ReloadAsync();
            }

            Assert.False(held.IsCompleted);
            var clicked = Stopwatch.GetTimestamp();
            await button.First.ClickAsync();
            var result = await held.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            delays.Add(Stopwatch.GetElapsedTime(clicked).TotalMilliseconds);
            Assert.Equal($"transferred {amount} to acct-9", Gateway.Text(result));
            Assert.Contains("Approved: transfer_funds", await OutcomeAsync(page), StringComparison.Ordinal);
        }

        delays.Sort();
        var line = string.Create(CultureInfo.InvariantCulture, $"approve click -> held call answered, 5 rounds: min {delays[0]:0} ms, median {delays[2]:0} ms, max {delays[4]:0} ms ({string.Join(", ", delays.Select(d => d.ToString("0", CultureInfo.InvariantCulture)))})");
        TestContext.Current.SendDiagnosticMessage(line);
        await File.WriteAllTextAsync(Path.Combine(Chromium.OutputDirectory, "approval-latency.txt"), line + Environment.NewLine, Ct);
    }
}
