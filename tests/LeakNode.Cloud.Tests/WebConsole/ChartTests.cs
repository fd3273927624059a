using Bunit;
using LeakNode.Cloud.WebConsole.Components;

namespace LeakNode.Cloud.Tests.WebConsole;

public sealed class ChartTests : IAsyncDisposable
{
    private readonly BunitContext _context = new();

    private static readonly ChartItem[] Risks =
    [
        new("low", "low", 2, "#0a0"), new("medium", "medium", 0, "#fa0"), new("high", "high", 3, "#f00"), new("critical", "critical", 1, "#a0a"),
    ];

    [Fact]
    public void Donut_ClickSegment_ReportsItsKey()
    {
        var clicked = new List<string>();
        var donut = _context.Render<DonutChart>(p => p.Add(c => c.Title, "Leaks by risk").Add(c => c.Items, Risks).Add(c => c.OnSelect, key => clicked.Add(key)));

        donut.Find("[data-segment=high]").Click();
        donut.Find("[data-legend=medium]").Click();

        Assert.Equal(["high", "medium"], clicked);
        // A level with no leak has no arc to click, but its legend entry is there.
        Assert.Empty(donut.FindAll("[data-segment=medium]"));
        Assert.Contains("6", donut.Find("svg").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Donut_Selected_IsPressedAndOthersFaded()
    {
        var donut = _context.Render<DonutChart>(p => p.Add(c => c.Title, "Leaks by risk").Add(c => c.Items, Risks).Add(c => c.Selected, "high"));

        Assert.Equal("true", donut.Find("[data-segment=high]").GetAttribute("aria-pressed"));
        Assert.Equal("false", donut.Find("[data-segment=low]").GetAttribute("aria-pressed"));
        Assert.Equal("0.35", donut.Find("[data-segment=low]").GetAttribute("stroke-opacity"));
    }

    [Fact]
    public void Donut_SegmentMiddle_IsOnTheRing()
    {
        var donut = _context.Render<DonutChart>(p => p.Add(c => c.Title, "t").Add(c => c.Items, Risks));
        foreach (var segment in donut.FindAll("[data-segment]"))
        {
            var x = double.Parse(segment.GetAttribute("data-mid-x")!, System.Globalization.CultureInfo.InvariantCulture) - 50;
            var y = double.Parse(segment.GetAttribute("data-mid-y")!, System.Globalization.CultureInfo.InvariantCulture) - 50;
            Assert.InRange(Math.Sqrt(x * x + y * y), 37.9, 38.1);
        }
    }

    [Fact]
    public void Bar_WithoutOnSelect_IsNotAButton()
    {
        var bars = _context.Render<BarChart>(p => p.Add(c => c.Title, "t").Add(c => c.Items, Risks));
        Assert.All(bars.FindAll("[data-bar]"), bar => Assert.Null(bar.GetAttribute("role")));
    }

    [Fact]
    public void Bar_ClickBar_ReportsItsKey()
    {
        string? clicked = null;
        var bars = _context.Render<BarChart>(p => p.Add(c => c.Title, "t").Add(c => c.Items, Risks).Add(c => c.OnSelect, key => clicked = key));
        bars.Find("[data-bar=critical]").Click();
        Assert.Equal("critical", clicked);
    }

    [Fact]
    public void Bar_AllZero_ShowsTheEmptyText()
    {
        var bars = _context.Render<BarChart>(p => p.Add(c => c.Title, "t").Add(c => c.Items, [new ChartItem("a", "a", 0, "#000")]).Add(c => c.EmptyText, "Nothing here"));
        Assert.Contains("Nothing here", bars.Markup, StringComparison.Ordinal);
        Assert.Empty(bars.FindAll("svg"));
    }

    public ValueTask DisposeAsync() => _context.DisposeAsync();
}
