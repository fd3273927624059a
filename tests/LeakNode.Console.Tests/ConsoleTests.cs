using System.Net;
using System.Text.RegularExpressions;
using LeakNode.Console.Tests.Support;
using LeakNode.Testing.Processes;
using static Microsoft.Playwright.Assertions;

namespace LeakNode.Console.Tests;

/// <summary>
/// The console in a real browser against a real <c>leaknode cloud</c> and <c>leaknode node</c>: what a security team
/// does, from sign-in to a blocked attempt and back. Each page is saved as a screenshot under the test output.
/// </summary>
public sealed partial class ConsoleTests
{
    private static string NewToken() => "ghp_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));

    [Fact]
    public async Task Admin_AddsLeakPatchesAndCloses_NodeBlocksThenPasses()
    {
        await using var deployment = new Deployment();
        await deployment.StartUpstreamAsync();
        await deployment.StartCloudAsync();
        await deployment.StartNodeAsync();
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var page = await browser.NewPageAsync();
        var console = deployment.ConsoleUrl;

        // Signed out, the console sends you to sign in.
        await page.GotoAsync(console.ToString());
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await page.ShotAsync("01-signin");
        await page.SignInAsync(console, deployment.AdminEmail, "not the password", expectSignedIn: false);
        await Expect(page.Locator("[data-testid=signin-error]")).ToBeVisibleAsync();
        await page.SignInAsync(console, deployment.AdminEmail, deployment.AdminPassword);
        await Expect(page.Locator("[data-testid=signed-in-as]")).ToHaveTextAsync(deployment.AdminEmail);
        await Expect(page.Locator("[data-testid=empty-state]")).ToContainTextAsync("No leaks yet");
        await page.ShotAsync("02-leaks-empty");

        // A low-risk leak from the API, to tell the donut's filter from no filter.
        await deployment.PostAsync("api/v1/leaks", new { name = "Low risk paste", risk = 2, tokens = new[] { NewToken() } });

        // Add a leak by hand: the API's validation shows beside each field first.
        await page.GoLiveAsync(new Uri(console, "leaks/new"));
        await page.ClickAsync("[data-testid=save-leak]");
        await Expect(page.Locator(".mud-input-helper-text.mud-input-error").First).ToBeVisibleAsync();
        await Expect(page.GetByText("is required", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByText("at least one token is required")).ToBeVisibleAsync();
        await page.Field("field-tokens").FillAsync("short");
        await page.ClickAsync("[data-testid=save-leak]");
        await Expect(page.GetByText("token 1: must be at least 8 characters", new() { Exact = false })).ToBeVisibleAsync();
        await page.ShotAsync("03-add-leak-validation");

        var token = NewToken();
        await page.Field("field-name").FillAsync("CI token in a public gist");
        await page.Field("field-description").FillAsync("Found by hand during a review.");
        await page.Field("field-tokens").FillAsync(token);
        var slider = page.Locator("input[type=range]").First;
        await slider.FocusAsync();
        for (var i = 0; i < 3; i++)
        {
            await page.Keyboard.PressAsync("ArrowRight");
        }
        await Expect(page.GetByText("Risk: 8 (high)")).ToBeVisibleAsync();
        await page.ShotAsync("04-add-leak");
        await page.ClickAsync("[data-testid=save-leak]");
        await Expect(page).ToHaveURLAsync(new Regex("/leaks/lk_[0-9a-f]+$"));
        var leakId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Expect(page.Locator("[data-testid=leak-status]")).ToHaveTextAsync("open");
        // The token is masked from now on.
        await Expect(page.Locator("[data-testid=tokens]")).ToContainTextAsync(token[..4] + "…");
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);

        // The "high" donut segment filters the list to high-risk leaks; a second click clears the filter.
        await page.GoLiveAsync(console);
        await Expect(page.Locator("[data-leak]")).ToHaveCountAsync(2);
        await page.ClickDonutSegmentAsync("Leaks by risk", "high");
        await Expect(page).ToHaveURLAsync(new Regex("[?&]risk=high"));
        await Expect(page.Locator("[data-leak]")).ToHaveCountAsync(1);
        await Expect(page.Locator($"[data-leak={leakId}] [data-risk=high]")).ToBeVisibleAsync();
        await page.ShotAsync("05-leaks-high");
        await page.ClickDonutSegmentAsync("Leaks by risk", "high");
        await Expect(page).Not.ToHaveURLAsync(new Regex("risk="));
        await Expect(page.Locator("[data-leak]")).ToHaveCountAsync(2);
        await page.ShotAsync("06-leaks");

        // Apply the virtual patch, with a comment.
        await page.GoLiveAsync(new Uri(console, $"leaks/{leakId}"));
        await page.ClickAsync("[data-action=vpatch]");
        await page.Field("confirm-comment").FillAsync("block until rotated");
        await page.ShotAsync("07-leak-confirm");
        await page.ClickAsync("[data-testid=confirm-ok]");
        await Expect(page.Locator("[data-testid=leak-remediation]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=history]")).ToContainTextAsync("block until rotated");

        // The Attacks page is open while the request is sent: the blocked attempt appears without a reload.
        await page.GoLiveAsync(new Uri(console, "attacks?type=vpatch"));
        await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/orders", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block the patched token");
        var row = page.Locator("[data-attack]").Filter(new() { Has = page.Locator("[data-column=action]", new() { HasText = "blocked" }) }).First;
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(row.Locator("[data-column=type]")).ToHaveTextAsync("vpatch");
        await Expect(row.Locator("[data-column=status]")).ToHaveTextAsync("403");
        await Expect(row).ToContainTextAsync("CI token in a public gist");
        await page.ShotAsync("08-attacks");

        // Close the leak: the same request passes again.
        await page.GoLiveAsync(new Uri(console, $"leaks/{leakId}"));
        await Expect(page.Locator("[data-testid=attempts-total]")).Not.ToHaveTextAsync("0", new() { Timeout = 10_000 });
        await page.ClickAsync("[data-action=close]");
        await page.Field("confirm-comment").FillAsync("token rotated");
        await page.ClickAsync("[data-testid=confirm-ok]");
        await Expect(page.Locator("[data-testid=leak-status]")).ToHaveTextAsync("closed");
        await page.ShotAsync("09-leak-detail");
        await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/orders", token) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), () => "the node to forward the closed leak's token");

        // Nodes: the node is connected and up to date; "Add node" shows the token once, with what to paste.
        await page.GoLiveAsync(new Uri(console, "nodes"));
        await Expect(page.Locator("[data-testid=node-connected]")).ToBeVisibleAsync();
        await page.ClickAsync("[data-testid=add-node]");
        await page.Field("node-name").FillAsync("edge-2");
        await page.ClickAsync("[data-testid=node-create]");
        await Expect(page.Locator("[data-testid=secret-value]")).ToContainTextAsync("lnt_");
        await Expect(page.Locator("[data-testid=node-config]")).ToContainTextAsync("GrpcUrl: http://127.0.0.1:");
        await Expect(page.Locator("[data-testid=node-command]")).ToHaveTextAsync("leaknode node --config node.yaml");
        await page.ShotAsync("10-nodes");

        // Settings: users and API keys.
        await page.GoLiveAsync(new Uri(console, "settings"));
        await Expect(page.Locator($"[data-user='{deployment.AdminEmail}']")).ToBeVisibleAsync();
        await page.ClickAsync("[data-testid=add-key]");
        await page.Field("key-name").FillAsync("ci-scanner");
        await page.ClickAsync("[data-testid=key-create]");
        await Expect(page.Locator("[data-testid=secret-value]")).ToContainTextAsync("lnk_");
        await page.ShotAsync("11-settings");

        // Signing out ends the session.
        await page.ClickAsync("text=Sign out");
        await Expect(page).ToHaveURLAsync(SignInUrl());
        await page.GotoAsync(console.ToString());
        await Expect(page).ToHaveURLAsync(SignInUrl());
    }

    [Fact]
    public async Task Analyst_SeesLeaks_ButNoActionButtons()
    {
        await using var deployment = new Deployment();
        await deployment.StartCloudAsync();
        var leak = await deployment.PostAsync("api/v1/leaks", new { name = "Staging key in a Postman collection", risk = 9, tokens = new[] { NewToken() } });
        var leakId = leak.GetProperty("id").GetString()!;
        await using var browser = await ConsoleBrowser.LaunchAsync();
        var console = deployment.ConsoleUrl;

        // The admin creates an analyst in Settings.
        var admin = await browser.NewPageAsync();
        await admin.SignInAsync(console, deployment.AdminEmail, deployment.AdminPassword);
        await admin.GoLiveAsync(new Uri(console, "settings"));
        await admin.ClickAsync("[data-testid=add-user]");
        await admin.Field("user-email").FillAsync("analyst@e2e.test");
        await admin.Field("user-password").FillAsync("short");
        await admin.ClickAsync("[data-testid=user-create]");
        await Expect(admin.GetByText("must be 12 to 256 characters")).ToBeVisibleAsync();
        await admin.Field("user-password").FillAsync("analyst-password-1");
        await admin.ClickAsync("[data-testid=user-create]");
        await Expect(admin.Locator("[data-user='analyst@e2e.test']")).ToBeVisibleAsync();

        // The analyst sees the leak and its details, and no button that changes anything.
        var analyst = await browser.NewPageAsync();
        await analyst.SignInAsync(console, "analyst@e2e.test", "analyst-password-1");
        await Expect(analyst.Locator($"[data-leak={leakId}]")).ToBeVisibleAsync();
        await Expect(analyst.GetByText("Add leak")).ToHaveCountAsync(0);
        await analyst.GoLiveAsync(new Uri(console, $"leaks/{leakId}"));
        await Expect(analyst.Locator("[data-testid=leak-status]")).ToHaveTextAsync("open");
        await Expect(analyst.Locator("[data-testid=leak-actions]")).ToHaveCountAsync(0);
        await Expect(analyst.Locator("[data-action]")).ToHaveCountAsync(0);
        await Expect(analyst.Locator("[data-testid=risk-save]")).ToHaveCountAsync(0);
        await analyst.ShotAsync("12-leak-detail-analyst");
        await analyst.GoLiveAsync(new Uri(console, "leaks/new"));
        await Expect(analyst.GetByText("Your role may not open this page")).ToBeVisibleAsync();
        await Expect(analyst.Locator("[data-testid=save-leak]")).ToHaveCountAsync(0);
        await analyst.GoLiveAsync(new Uri(console, "nodes"));
        await Expect(analyst.Locator("[data-testid=add-node]")).ToHaveCountAsync(0);

        // The console's cookie is not an API credential: /api/* still wants an API key.
        var api = await analyst.Context.APIRequest.GetAsync(new Uri(console, "api/v1/leaks").ToString());
        Assert.Equal(401, api.Status);
    }

    [GeneratedRegex("/signin")]
    private static partial Regex SignInUrl();
}
