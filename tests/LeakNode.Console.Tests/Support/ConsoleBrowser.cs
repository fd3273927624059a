using Microsoft.Playwright;

namespace LeakNode.Console.Tests.Support;

/// <summary>
/// Debian's chromium driven by Playwright: headless, at 1280×800, with the flags that work without network access
/// and as root. Playwright's own browser download is never used (<c>ExecutablePath</c>), so the tests run offline.
/// </summary>
public sealed class ConsoleBrowser : IAsyncDisposable
{
    /// <summary>Where the browser is looked for: <c>LEAKNODE_TEST_CHROMIUM</c>, else Debian's <c>/usr/bin/chromium</c>.</summary>
    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("LEAKNODE_TEST_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    /// <summary>The screenshots of every page, for a reviewer: <c>screenshots/</c> in the test output folder.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private readonly IPlaywright _playwright;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        // Fail, never skip: a console that was not tested in a browser is not tested.
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {ChromiumPath}: install Debian's package (`apt-get install -y chromium`; ./test.sh does it when run as root), "
                + "or point LEAKNODE_TEST_CHROMIUM at a Chromium binary.");
        }
        // The tests share two cores with the other test projects: a page can take a few seconds to answer there.
        Assertions.SetDefaultExpectTimeout(15_000);
        var playwright = await Playwright.CreateAsync();
        try
        {
            var args = new List<string>
            {
                "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
                "--metrics-recording-only", "--password-store=basic",
            };
            if (Environment.UserName == "root")
            {
                // Chromium refuses to start its sandbox as root.
                args.Add("--no-sandbox");
            }
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = args });
            return new ConsoleBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>A fresh session (own cookies) with a 1280×800 window.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>What the tests do on console pages.</summary>
public static class ConsolePages
{
    /// <summary>Waits until the page's circuit is connected: clicks on a page that is only prerendered are lost.</summary>
    public static Task WaitLiveAsync(this IPage page) =>
        page.Locator("#ln-live[data-live=yes]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    public static async Task GoLiveAsync(this IPage page, Uri url)
    {
        await page.GotoAsync(url.ToString());
        await page.WaitLiveAsync();
    }

    /// <summary>Fills the sign-in form and sends it; when <paramref name="expectSignedIn"/>, waits for the console to be live.</summary>
    public static async Task SignInAsync(this IPage page, Uri console, string email, string password, bool expectSignedIn = true)
    {
        await page.GotoAsync(new Uri(console, "signin").ToString());
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", password);
        await page.ClickAsync("button[type=submit]");
        if (expectSignedIn)
        {
            await page.WaitLiveAsync();
        }
    }

    /// <summary>Saves the page as <c>screenshots/NAME.png</c> under the test output.</summary>
    public static async Task ShotAsync(this IPage page, string name)
    {
        Directory.CreateDirectory(ConsoleBrowser.ScreenshotFolder);
        // Let the charts and chips settle (MudBlazor animates a few hundred milliseconds).
        await page.WaitForTimeoutAsync(400);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleBrowser.ScreenshotFolder, name + ".png"), FullPage = true });
    }

    /// <summary>
    /// Clicks a donut segment where a person would: on its arc, at the middle (the segment publishes that point in
    /// the chart's coordinates, 0–100); the middle of its bounding box is the donut's hole.
    /// </summary>
    public static async Task ClickDonutSegmentAsync(this IPage page, string chart, string key)
    {
        var svg = page.Locator($"[data-chart='{chart}'] svg");
        var segment = svg.Locator($"[data-segment={key}]");
        var box = await svg.BoundingBoxAsync() ?? throw new InvalidOperationException($"the chart '{chart}' is not on screen");
        var x = double.Parse((await segment.GetAttributeAsync("data-mid-x"))!, System.Globalization.CultureInfo.InvariantCulture);
        var y = double.Parse((await segment.GetAttributeAsync("data-mid-y"))!, System.Globalization.CultureInfo.InvariantCulture);
        await page.Mouse.ClickAsync((float)(box.X + box.Width * x / 100), (float)(box.Y + box.Height * y / 100));
    }

    /// <summary>The input (or textarea) of a MudBlazor field marked with <c>data-testid</c>.</summary>
    public static ILocator Field(this IPage page, string testId) =>
        page.Locator($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea").First;
}
