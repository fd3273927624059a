using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Leaks;

public sealed class LeakListTests
{
    private readonly Tokens _tokens = new(seed: 4303);

    /// <summary>12 leaks across statuses, risks and sources: (name, risk, source, final action).</summary>
    private static readonly (string Name, int Risk, string Source, string? Action)[] Seed =
    [
        ("alpha github", 2, "github", null),
        ("beta paste", 5, "paste", "close"),
        ("gamma github", 7, "github", "vpatch"),
        ("delta manual", 9, "manual", "mark-false"),
        ("epsilon postman", 10, "postman", null),
        ("zeta docker", 4, "docker", "close"),
        ("eta web", 1, "web", null),
        ("theta github", 8, "github", "mark-false"),
        ("iota manual", 6, "manual", "vpatch"),
        ("kappa paste", 3, "paste", null),
        ("lambda file", 5, "file", "close"),
        ("mu Gitlab", 9, "gitlab", null),
    ];

    private static async Task<List<JsonElement>> SeedAsync(CloudHarness cloud, Tokens tokens)
    {
        var leaks = new List<JsonElement>();
        foreach (var (name, risk, source, action) in Seed)
        {
            var leak = await cloud.Admin.CreateLeakAsync(name, tokens.Next(2), risk, source);
            if (action is not null)
            {
                (_, leak) = await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/{action}", null);
            }
            leaks.Add(leak);
        }
        return leaks;
    }

    private static async Task<List<JsonElement>> WalkAsync(HttpClient client, string query, int limit)
    {
        var all = new List<JsonElement>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var separator = query.Length == 0 ? "" : "&";
            var (status, page) = await client.GetJsonAsync($"/api/v1/leaks?{query}{separator}limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}"));
            Assert.True(status == HttpStatusCode.OK, page.ToString());
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(items.Count <= limit);
            all.AddRange(items);
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.Str("nextCursor");
            Assert.True(++pages < 100, "the cursor walk does not end");
        }
        while (cursor is not null);
        return all;
    }

    [Fact]
    public async Task List_DefaultSort_OpenFirstThenNewest()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/leaks?limit=100");
        var names = page.GetProperty("items").EnumerateArray().Select(i => (Status: i.Str("status"), Name: i.Str("name"))).ToList();
        var expected = Seed.Select((s, i) => (Status: s.Action switch { "close" => "closed", "mark-false" => "false", _ => "open" }, s.Name, Index: i))
            .OrderBy(s => s.Status switch { "open" => 0, "closed" => 1, _ => 2 }).ThenByDescending(s => s.Index)
            .Select(s => (s.Status, s.Name)).ToList();
        Assert.Equal(expected, names);
        Assert.Equal(12, page.GetProperty("total").GetInt64());
    }

    public static TheoryData<string> Sorts => new() { "status", "newest", "oldest", "risk", "updated", "name" };

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task List_CursorWalk_ReturnsEveryLeakOnceInOrder(string sort)
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var (_, whole) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks?sort={sort}&limit=100");
        var expected = whole.GetProperty("items").EnumerateArray().Select(i => i.Id()).ToList();

        foreach (var limit in new[] { 1, 5, 12 })
        {
            var walked = (await WalkAsync(cloud.Admin, $"sort={sort}", limit)).Select(i => i.Id()).ToList();
            Assert.Equal(expected, walked);
        }
        Assert.Equal(12, expected.Distinct().Count());
    }

    [Fact]
    public async Task List_SortByRisk_HighestFirst()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/leaks?sort=risk&limit=100");
        var scores = page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("risk").GetProperty("score").GetInt32()).ToList();
        Assert.Equal(scores.OrderByDescending(s => s), scores);
    }

    public static TheoryData<string, string[]> Filters => new()
    {
        { "status=open", ["alpha github", "gamma github", "epsilon postman", "eta web", "iota manual", "kappa paste", "mu Gitlab"] },
        { "status=closed", ["beta paste", "zeta docker", "lambda file"] },
        { "status=false", ["delta manual", "theta github"] },
        { "status=closed,false", ["beta paste", "zeta docker", "lambda file", "delta manual", "theta github"] },
        { "risk=low", ["alpha github", "eta web", "kappa paste"] },
        { "risk=critical", ["delta manual", "epsilon postman", "mu Gitlab"] },
        { "risk=high&status=open", ["gamma github"] },
        { "source=github", ["alpha github", "gamma github", "theta github"] },
        { "source=paste&status=open", ["kappa paste"] },
        { "q=GITHUB", ["alpha github", "gamma github", "theta github"] },
        { "q=gitlab", ["mu Gitlab"] },
        { "q=a%25b", [] },
        { "q=nothing-like-it", [] },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task List_Filter_SelectsExactlyTheMatchingLeaks(string query, string[] expected)
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var walked = await WalkAsync(cloud.Admin, query, 2);
        Assert.Equal(expected.Order(StringComparer.Ordinal), walked.Select(i => i.Str("name")).Order(StringComparer.Ordinal));
        var (_, page) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks?{query}&limit=1");
        Assert.Equal(expected.Length, page.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task List_QueryByTokenOrFingerprint_FindsItsLeak()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = _tokens.Next();
        var leak = await cloud.Admin.CreateLeakAsync("findable", [token]);
        await cloud.Admin.CreateLeakAsync("other", [_tokens.Next()]);
        var fingerprint = leak.GetProperty("tokens")[0].Str("fingerprint");

        foreach (var q in new[] { token, fingerprint, leak.Id() })
        {
            var (_, page) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks?q={Uri.EscapeDataString(q)}");
            Assert.Equal([leak.Id()], page.GetProperty("items").EnumerateArray().Select(i => i.Id()));
        }
    }

    [Theory]
    [InlineData("status=deleted", "status")]
    [InlineData("risk=extreme", "risk")]
    [InlineData("source=pigeon", "source")]
    [InlineData("sort=random", "sort")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=eyJzIjoibmV3ZXN0IiwiayI6WzEsImEiXX0", "cursor")]
    public async Task List_BadQuery_Answers400NamingTheParameter(string query, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task List_CursorOfAnotherSort_Answers400()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/leaks?sort=newest&limit=2");
        var (status, _) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks?sort=name&cursor={page.Str("nextCursor")}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
    }

    [Fact]
    public async Task Stats_CountsByRiskSourceAndStatus()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        var (status, stats) = await cloud.Admin.GetJsonAsync("/api/v1/leaks/stats");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(7, stats.GetProperty("byStatus").GetProperty("open").GetInt64());
        Assert.Equal(3, stats.GetProperty("byStatus").GetProperty("closed").GetInt64());
        Assert.Equal(2, stats.GetProperty("byStatus").GetProperty("false").GetInt64());
        Assert.Equal(3, stats.GetProperty("byRisk").GetProperty("low").GetInt64());
        Assert.Equal(4, stats.GetProperty("byRisk").GetProperty("medium").GetInt64());
        Assert.Equal(2, stats.GetProperty("byRisk").GetProperty("high").GetInt64());
        Assert.Equal(3, stats.GetProperty("byRisk").GetProperty("critical").GetInt64());
        Assert.Equal(3, stats.GetProperty("bySource").GetProperty("github").GetInt64());
        Assert.Equal(2, stats.GetProperty("bySource").GetProperty("manual").GetInt64());

        var (_, open) = await cloud.Admin.GetJsonAsync("/api/v1/leaks/stats?status=open");
        Assert.Equal(0, open.GetProperty("byStatus").GetProperty("closed").GetInt64());
        Assert.Equal(2, open.GetProperty("bySource").GetProperty("github").GetInt64());
    }

    [Fact]
    public async Task Export_Json_HoldsTheFilteredLeaksWithoutPlaintext()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await SeedAsync(cloud, _tokens);
        using var response = await cloud.Admin.GetAsync("/api/v1/leaks/export?format=json&status=closed", CloudApi.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        var text = await response.Content.ReadAsStringAsync(CloudApi.Ct);
        var leaks = JsonSerializer.Deserialize<JsonElement>(text).EnumerateArray().ToList();
        Assert.Equal(["beta paste", "lambda file", "zeta docker"], leaks.Select(l => l.Str("name")).Order(StringComparer.Ordinal));
        Assert.All(leaks, l => Assert.Equal(2, l.GetProperty("tokens").GetArrayLength()));
        Assert.All(_tokens.All, t => Assert.DoesNotContain(t, text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Export_Csv_OneRowPerLeakWithFingerprints()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leaks = await SeedAsync(cloud, _tokens);
        var formula = await cloud.Admin.CreateLeakAsync("=HYPERLINK(\"x\"), with comma", [_tokens.Next()]);
        using var response = await cloud.Admin.GetAsync("/api/v1/leaks/export?format=csv", CloudApi.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(CloudApi.Ct);
        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,name,status,remediation,riskScore,riskLevel,tokenCount,tokenFingerprints", lines[0], StringComparison.Ordinal);
        Assert.Equal(14, lines.Length);
        foreach (var leak in leaks)
        {
            var line = Assert.Single(lines, l => l.StartsWith(leak.Id() + ",", StringComparison.Ordinal));
            foreach (var token in leak.GetProperty("tokens").EnumerateArray())
            {
                Assert.Contains(token.Str("fingerprint"), line, StringComparison.Ordinal);
            }
        }
        Assert.Contains("\"'=HYPERLINK(\"\"x\"\"), with comma\"", text, StringComparison.Ordinal);
        Assert.All(_tokens.All, t => Assert.DoesNotContain(t, text, StringComparison.Ordinal));
        _ = formula;
    }

    [Fact]
    public async Task Export_UnknownFormat_Answers400()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.GetJsonAsync("/api/v1/leaks/export?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty("format", out _));
    }
}
