using Bunit;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Sources;
using LeakNode.Cloud.WebConsole.Pages;

namespace LeakNode.Cloud.Tests.WebConsole;

/// <summary>The console's Sources page and the computed risk's reasons on a leak.</summary>
public sealed class SourcesPageTests
{
    private static Dictionary<string, string?> NoWorker => new() { ["Scanning:Enabled"] = "false" };

    [Fact]
    public async Task Sources_Add_ShowsTheApisMessages_ThenListsTheSource_ScanNowAsksForAScan()
    {
        await using var console = await ConsoleContext.StartAsync(Roles.Admin, NoWorker);
        var page = console.Render<LeakNode.Cloud.WebConsole.Pages.Sources>();
        var snackbars = console.Bunit.Render<MudBlazor.MudSnackbarProvider>();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("[data-testid=empty-state]")));

        page.Find("[data-testid=add-source]").Click();
        page.WaitForAssertion(() => Assert.NotNull(page.Find("input[data-testid=source-url]")));
        page.Find("input[data-testid=source-url]").Change("https://github.com/example-org/payments");
        page.Find("input[data-testid=source-schedule]").Change("1m");
        page.Find("[data-testid=source-create]").Click();
        page.WaitForAssertion(() => Assert.Contains("Scanning:MinInterval", page.Markup, StringComparison.Ordinal));

        page.Find("input[data-testid=source-schedule]").Change("6h");
        page.Find("[data-testid=source-create]").Click();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr[data-source]")));
        var source = Assert.Single(await console.Cloud.Service<SourceStore>().ListAsync(CancellationToken.None));
        Assert.Equal(("github", "6h", "example-org/payments"), (source.Kind, source.Schedule, source.Name));
        page.Find("[data-testid=source-scan]").Click();
        // The provider re-renders when the page's handler (awaiting the database) adds its message.
        snackbars.WaitForAssertion(() => Assert.Contains("Scan requested", snackbars.Markup, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sources_Analyst_SeesSourcesButNoActions()
    {
        await using var console = await ConsoleContext.StartAsync(Roles.Analyst, NoWorker);
        await console.Cloud.Service<SourceStore>().CreateAsync(
            new ValidSource("payments", "github", "https://github.com/example-org/payments", "1d", TimeSpan.FromDays(1), true), "test", CancellationToken.None);
        var page = console.Render<LeakNode.Cloud.WebConsole.Pages.Sources>();

        page.WaitForAssertion(() => Assert.Single(page.FindAll("tr[data-source]")));
        Assert.Empty(page.FindAll("[data-testid=add-source]"));
        Assert.Empty(page.FindAll("[data-testid=source-scan]"));
    }

    [Fact]
    public async Task LeakDetail_ComputedRisk_ShowsItsReasons()
    {
        await using var console = await ConsoleContext.StartAsync(Roles.Analyst, NoWorker);
        var leak = await console.Leaks.CreateAsync(
            new NewLeak("found", "", 8, ["ghp_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18))], "github", null, null)
            {
                RiskReasons = ["detector severity critical (github): base 8", "score 8"],
            },
            "test", CancellationToken.None);
        var page = console.Render<LeakDetail>(p => p.Add(c => c.Id, leak.Id));

        page.WaitForAssertion(() => Assert.Equal(
            ["detector severity critical (github): base 8", "score 8"],
            page.FindAll("[data-testid=risk-reasons] li").Select(li => li.TextContent.Trim())));
    }
}
