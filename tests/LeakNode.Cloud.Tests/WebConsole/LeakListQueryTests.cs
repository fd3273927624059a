using LeakNode.Cloud.WebConsole.Leaks;

namespace LeakNode.Cloud.Tests.WebConsole;

public sealed class LeakListQueryTests
{
    [Fact]
    public void ToUrl_Default_IsThePlainPath() => Assert.Equal("/", LeakListQuery.Default.ToUrl());

    [Fact]
    public void ParseToUrl_EveryFilter_RoundTrips()
    {
        var query = LeakListQuery.Parse("open,closed", "high", "github,paste", "2026-01-31", "ci token", "risk");
        var url = query.ToUrl();
        Assert.Equal("/?status=open,closed&risk=high&source=github,paste&since=2026-01-31&q=ci%20token&sort=risk", url);

        var parameters = System.Web.HttpUtility.ParseQueryString(new Uri("http://x" + url).Query);
        var again = LeakListQuery.Parse(parameters["status"], parameters["risk"], parameters["source"], parameters["since"], parameters["q"], parameters["sort"]);
        Assert.Equal(query, again);
        Assert.Equal(url, again.ToUrl());
    }

    [Fact]
    public void Parse_UnknownValues_AreDropped()
    {
        var query = LeakListQuery.Parse("open,nonsense", "extreme", "nowhere", "yesterday", "  ", "random");
        Assert.Equal(["open"], query.Statuses);
        Assert.Empty(query.Risks);
        Assert.Empty(query.Sources);
        Assert.Null(query.Since);
        Assert.Null(query.Text);
        Assert.Equal("status", query.Sort);
    }

    [Fact]
    public void ToggleRisk_SameLevelTwice_ClearsTheFilter()
    {
        var high = LeakListQuery.Default.ToggleRisk("high");
        Assert.Equal("/?risk=high", high.ToUrl());
        Assert.Equal("/?risk=critical", high.ToggleRisk("critical").ToUrl());
        Assert.Equal("/", high.ToggleRisk("high").ToUrl());
    }

    [Fact]
    public void ToggleSource_KeepsTheOtherFilters()
    {
        var query = LeakListQuery.Parse("open", "high", null, null, null, "newest").ToggleSource("github");
        Assert.Equal("/?status=open&risk=high&source=github&sort=newest", query.ToUrl());
        Assert.Equal("/?status=open&risk=high&sort=newest", query.ToggleSource("github").ToUrl());
    }

    [Fact]
    public void ToFilter_Since_IsMidnightUtc()
    {
        var filter = LeakListQuery.Parse(null, null, null, "2026-01-31", null, null).ToFilter(_ => null);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), filter.Since);
    }
}
