using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Cloud.Tests.Sources;

/// <summary>
/// <c>POST /api/v1/findings</c>: a scan's findings become leaks — grouped by file and commit, a known token adds a
/// place to its leak instead of a new leak, a leak marked false stays false, and the risk comes with its reasons.
/// </summary>
public sealed class FindingsApiTests
{
    private const string Repo = "https://github.com/example-org/payments.git";

    [Fact]
    public async Task Findings_SameFileAndCommit_GroupIntoOneLeak_OtherFileGetsItsOwn()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var secrets = new SecretFactory(11);
        var (a, b, c) = (secrets.GitHubStyle("gh" + "p_"), secrets.GitHubStyle("gh" + "p_"), secrets.GitHubStyle("gh" + "p_"));
        var commit = new string('a', 40);

        var (status, result) = await cloud.Admin.PostJsonAsync("/api/v1/findings", new
        {
            target = Repo,
            findings = new object[]
            {
                Finding(a, "config/.env", 3, commit), Finding(b, "config/.env", 4, commit), Finding(c, "src/app.py", 10, commit),
            },
        });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, result.GetProperty("newLeaks").GetInt32());
        var leaks = await LeaksAsync(cloud.Admin);
        Assert.Equal(2, leaks.Count);
        var env = Assert.Single(leaks, l => l.GetProperty("tokenCount").GetInt32() == 2);
        Assert.Equal("open", env.Str("status"));
        var source = Assert.Single(env.GetProperty("sources").EnumerateArray());
        Assert.Equal("github", source.Str("kind"));
        Assert.Equal(Repo, source.Str("url"));
        Assert.Equal("config/.env:3@aaaaaaaaaaaa", source.Str("location"));
        Assert.Equal("detected", env.GetProperty("history")[0].Str("action"));
        Assert.Contains("payments: config/.env", env.Str("name"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Findings_KnownToken_AddsPlaceToItsLeak_SamePlaceTwiceChangesNothing()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = new SecretFactory(12).GitHubStyle("gh" + "p_");
        var first = await FileAsync(cloud.Admin, Repo, Finding(token, "a.txt", 1, null));
        Assert.Equal(1, first.GetProperty("newLeaks").GetInt32());

        var again = await FileAsync(cloud.Admin, "https://pastebin.com/raw/abcd1234", Finding(token, "https://pastebin.com/raw/abcd1234", 7, null));
        Assert.Equal(0, again.GetProperty("newLeaks").GetInt32());
        Assert.Equal(1, again.GetProperty("updatedLeaks").GetInt32());
        var repeat = await FileAsync(cloud.Admin, "https://pastebin.com/raw/abcd1234", Finding(token, "https://pastebin.com/raw/abcd1234", 7, null));
        Assert.Equal(0, repeat.GetProperty("updatedLeaks").GetInt32());

        var leak = Assert.Single(await LeaksAsync(cloud.Admin));
        Assert.Equal(["github", "paste"], leak.GetProperty("sources").EnumerateArray().Select(s => s.Str("kind")).ToArray());
        Assert.Equal("line 7", leak.GetProperty("sources")[1].Str("location"));
        Assert.Single(leak.GetProperty("history").EnumerateArray(), h => h.Str("action") == "seen-again");
        Assert.Equal(leak.Id(), Assert.Single(again.GetProperty("leakIds").EnumerateArray()).GetString());
    }

    [Fact]
    public async Task Findings_TokenInEveryVersionOfAFile_IsOnePlace_TheVersionThatIntroducedIt()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = new SecretFactory(17).GitHubStyle("gh" + "p_");
        var day = DateTimeOffset.UtcNow.AddDays(-10);

        // A history scan reports the token once for each version of the file that holds it.
        var first = await FileAsync(cloud.Admin, Repo,
            Finding(token, ".env", 4, "c2", date: day.AddDays(1), atHead: true), Finding(token, ".env", 3, "c1", date: day, atHead: false));
        Assert.Equal(1, first.GetProperty("newLeaks").GetInt32());
        var leak = Assert.Single(await LeaksAsync(cloud.Admin));
        Assert.Equal(".env:3@c1", Assert.Single(leak.GetProperty("sources").EnumerateArray()).Str("location"));
        Assert.Contains(leak.GetProperty("risk").GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("still present at HEAD", StringComparison.Ordinal));

        // A later rescan sees another edit of the same file: not a new place. Another file is.
        var edited = await FileAsync(cloud.Admin, Repo, Finding(token, ".env", 9, "c7", date: day.AddDays(5)));
        Assert.Equal(0, edited.GetProperty("updatedLeaks").GetInt32());
        var copied = await FileAsync(cloud.Admin, Repo, Finding(token, "deploy/.env", 1, "c8", date: day.AddDays(6)));
        Assert.Equal(1, copied.GetProperty("updatedLeaks").GetInt32());
        Assert.Equal(2, Assert.Single(await LeaksAsync(cloud.Admin)).GetProperty("sources").GetArrayLength());
    }

    [Fact]
    public async Task Findings_LeakMarkedFalse_IsNeverReopened_ClosedStaysClosed()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var secrets = new SecretFactory(13);
        var (falseToken, closedToken) = (secrets.GitHubStyle("gh" + "p_"), secrets.GitHubStyle("gh" + "p_"));
        var falseLeak = await cloud.Admin.CreateLeakAsync("a test fixture", [falseToken]);
        var closedLeak = await cloud.Admin.CreateLeakAsync("rotated", [closedToken]);
        Assert.Equal(HttpStatusCode.OK, (await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{falseLeak.Id()}/mark-false", new { comment = "fixture" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{closedLeak.Id()}/close", new { })).Status);

        var result = await FileAsync(cloud.Admin, Repo, Finding(falseToken, "tests/fixture.json", 2, null), Finding(closedToken, "deploy.sh", 9, null));

        Assert.Equal(0, result.GetProperty("newLeaks").GetInt32());
        Assert.Equal("false", (await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{falseLeak.Id()}")).Body.Str("status"));
        Assert.Equal("closed", (await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{closedLeak.Id()}")).Body.Str("status"));
        Assert.Equal(2, (await LeaksAsync(cloud.Admin)).Count);
    }

    [Fact]
    public async Task Findings_NewTokenBesideOneInAnOpenLeak_JoinsThatLeak()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var secrets = new SecretFactory(14);
        var (known, fresh) = (secrets.GitHubStyle("gh" + "p_"), secrets.GitHubStyle("gh" + "p_"));
        var leak = await cloud.Admin.CreateLeakAsync("reported by hand", [known]);

        var result = await FileAsync(cloud.Admin, Repo, Finding(known, ".env", 1, "b1"), Finding(fresh, ".env", 2, "b1"));

        Assert.Equal(0, result.GetProperty("newLeaks").GetInt32());
        var updated = (await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{leak.Id()}")).Body;
        Assert.Equal(2, updated.GetProperty("tokenCount").GetInt32());
    }

    [Fact]
    public async Task Risk_ComputedFromFactors_WithReasons_InventoryHitIsCritical()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var secrets = new SecretFactory(15);
        var recent = DateTimeOffset.UtcNow.AddDays(-2);
        var old = DateTimeOffset.UtcNow.AddYears(-3);

        await FileAsync(cloud.Admin, Repo, Finding(secrets.GitHubStyle("gh" + "p_"), "a", 1, "c1", severity: "high", atHead: true, date: recent));
        await FileAsync(cloud.Admin, "file:///srv/backup", Finding(secrets.GitHubStyle("gh" + "p_"), "b", 1, "c2", severity: "high", atHead: false, date: old));
        await FileAsync(cloud.Admin, "file:///srv/other", Finding(secrets.GitHubStyle("gh" + "p_"), "c", 1, null, severity: "low", inventory: true));

        var leaks = await LeaksAsync(cloud.Admin);
        var risks = leaks.ToDictionary(l => l.GetProperty("sources")[0].Str("location")[..1], l => l.GetProperty("risk"));
        // high 6 + public github 1 + at HEAD 1 + 2 days old 1 = 9.
        Assert.Equal(9, risks["a"].GetProperty("score").GetInt32());
        Assert.Equal("critical", risks["a"].Str("level"));
        Assert.Contains(risks["a"].GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("still present at HEAD", StringComparison.Ordinal));
        Assert.Contains(risks["a"].GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("found in a public place (github)", StringComparison.Ordinal));
        // high 6, internal, removed at HEAD +0, three years old -1 = 5.
        Assert.Equal(5, risks["b"].GetProperty("score").GetInt32());
        // An inventory hit is at least 9 whatever the detector said.
        Assert.Equal(9, risks["c"].GetProperty("score").GetInt32());

        // A person's risk wins over later scans.
        var a = leaks.Single(l => l.GetProperty("sources")[0].Str("location").StartsWith('a'));
        Assert.Equal(HttpStatusCode.OK, (await cloud.Admin.PatchJsonAsync($"/api/v1/leaks/{a.Id()}", new { risk = 3 })).Status);
        var edited = (await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{a.Id()}")).Body.GetProperty("risk");
        Assert.Equal(3, edited.GetProperty("score").GetInt32());
        Assert.Empty(edited.GetProperty("reasons").EnumerateArray());
    }

    [Fact]
    public async Task Findings_Invalid_EveryProblemNamed_ShortSecretsIgnored_AnalystRefused()
    {
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Scanning:MaxFindingsPerRequest"] = "3" });
        var (status, body) = await cloud.Admin.PostJsonAsync("/api/v1/findings", new
        {
            kind = "nowhere",
            findings = new object[] { new { path = "a" }, new { secret = "x", severity = "dire", line = 0 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var errors = body.GetProperty("errors");
        foreach (var field in new[] { "target", "kind", "findings[0].secret", "findings[1].severity", "findings[1].line" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }
        var tooMany = await cloud.Admin.PostJsonAsync("/api/v1/findings", new { target = Repo, findings = Enumerable.Repeat(new { secret = "abcdefgh12345" }, 4) });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.Status);

        var ignored = await FileAsync(cloud.Admin, Repo, new { secret = "short", path = "a", line = 1 });
        Assert.Equal(1, ignored.GetProperty("ignored").GetInt32());
        Assert.Empty(await LeaksAsync(cloud.Admin));

        var analyst = await cloud.ClientWithRoleAsync("analyst");
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostJsonAsync("/api/v1/findings", new { target = Repo, findings = new[] { new { secret = "abcdefgh12345" } } })).Status);
    }

    [Fact]
    public async Task Findings_TargetWithCredentials_StoredWithout_SecretsNeverShown()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var token = new SecretFactory(16).GitHubStyle("gh" + "p_");
        await FileAsync(cloud.Admin, "https://deploy:hunter2hunter2@git.example.test/org/app.git", Finding(token, "k", 1, null));

        var leak = Assert.Single(await LeaksAsync(cloud.Admin));
        Assert.Equal("https://git.example.test/org/app.git", leak.GetProperty("sources")[0].Str("url"));
        Assert.Equal("git", leak.GetProperty("sources")[0].Str("kind"));
        Assert.DoesNotContain(cloud.Responses, r => r.Contains(token, StringComparison.Ordinal) || r.Contains("hunter2hunter2", StringComparison.Ordinal));
        Assert.DoesNotContain(cloud.Logs, l => l.Contains(token, StringComparison.Ordinal));
    }

    internal static object Finding(
        string secret, string path, int line, string? commit, string severity = "high", bool? atHead = null, DateTimeOffset? date = null, bool inventory = false) =>
        new { secret, ruleId = "github-pat", kind = "github-pat", severity, path, line, commit, author = "Dev", date, atHead, inventory };

    private static async Task<JsonElement> FileAsync(HttpClient client, string target, params object[] findings)
    {
        var (status, body) = await client.PostJsonAsync("/api/v1/findings", new { target, findings });
        Assert.True(status == HttpStatusCode.OK, $"findings answered {status}: {body}");
        return body;
    }

    internal static async Task<List<JsonElement>> LeaksAsync(HttpClient client)
    {
        var (status, body) = await client.GetJsonAsync("/api/v1/leaks?limit=100&sort=oldest");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("items").EnumerateArray().ToList();
    }
}
