using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Sources;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Sources;

/// <summary><c>/api/v1/sources</c>: registering what the cloud scans, with every problem of a request named.</summary>
public sealed class SourcesApiTests
{
    private static Dictionary<string, string?> NoWorker => new() { ["Scanning:Enabled"] = "false" };

    [Fact]
    public async Task Create_KindFromUrl_DefaultsFilledIn_ListGetPatchDelete()
    {
        await using var cloud = await CloudHarness.StartAsync(NoWorker);
        var (status, created) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = "https://github.com/example-org/payments" });

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("github", created.Str("kind"));
        Assert.Equal("example-org/payments", created.Str("name"));
        Assert.Equal("1d", created.Str("schedule"));
        Assert.True(created.GetProperty("enabled").GetBoolean());
        // A new source is due at once: its first scan need not wait a day.
        Assert.True(created.GetProperty("nextScanAt").GetDateTimeOffset() <= DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("lastRun").ValueKind);

        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/sources");
        Assert.Equal(created.Id(), Assert.Single(list.EnumerateArray()).Id());

        var (patched, body) = await cloud.Admin.PatchJsonAsync($"/api/v1/sources/{created.Id()}", new { schedule = "6h", name = "payments" });
        Assert.Equal(HttpStatusCode.OK, patched);
        Assert.Equal("6h", body.Str("schedule"));
        Assert.Equal("payments", body.Str("name"));

        var (disabledStatus, disabled) = await cloud.Admin.PatchJsonAsync($"/api/v1/sources/{created.Id()}", new { enabled = false });
        Assert.Equal(HttpStatusCode.OK, disabledStatus);
        Assert.Equal(JsonValueKind.Null, disabled.GetProperty("nextScanAt").ValueKind);
        Assert.Equal(HttpStatusCode.Conflict, (await cloud.Admin.PostJsonAsync($"/api/v1/sources/{created.Id()}/scan", null)).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await cloud.Admin.DeleteAsync($"/api/v1/sources/{created.Id()}", CloudApi.Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.Admin.GetJsonAsync($"/api/v1/sources/{created.Id()}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await cloud.Admin.PostJsonAsync($"/api/v1/sources/{created.Id()}/scan", null)).Status);
    }

    [Theory]
    [InlineData("https://gitlab.com/group/project.git", "gitlab")]
    [InlineData("git@bitbucket.org:team/repo.git", "bitbucket")]
    [InlineData("https://pastebin.com/raw/abcd1234", "paste")]
    [InlineData("https://intranet.example.test/wiki/page", "web")]
    [InlineData("ssh://git.example.test/srv/app.git", "git")]
    public async Task Create_KindOfEachUrl(string url, string kind)
    {
        await using var cloud = await CloudHarness.StartAsync(NoWorker);
        var (status, created) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url, schedule = "manual" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(kind, created.Str("kind"));
        // A manual source waits for a request.
        Assert.Equal(JsonValueKind.Null, (await cloud.Admin.GetJsonAsync($"/api/v1/sources/{created.Id()}")).Body.GetProperty("lastRun").ValueKind);
    }

    [Fact]
    public async Task Create_Invalid_EveryProblemNamed()
    {
        await using var cloud = await CloudHarness.StartAsync(NoWorker);
        async Task<JsonElement> Refused(object body)
        {
            var (status, problem) = await cloud.Admin.PostJsonAsync("/api/v1/sources", body);
            Assert.True(status == HttpStatusCode.BadRequest, $"answered {status}: {problem}");
            return problem.GetProperty("errors");
        }

        Assert.True((await Refused(new { })).TryGetProperty("url", out _));
        var many = await Refused(new { url = "https://user:pass@github.com/a/b.git", kind = "ftp", schedule = "every tuesday" });
        Assert.Contains("credentials", many.GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.True(many.TryGetProperty("kind", out _));
        Assert.True(many.TryGetProperty("schedule", out _));
        Assert.Contains("Scanning:MinInterval", (await Refused(new { url = "https://github.com/a/b", schedule = "1m" })).GetProperty("schedule")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("AllowLocalPaths", (await Refused(new { url = "/srv/repos/app" })).GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("AllowLocalPaths", (await Refused(new { url = "file:///srv/repos/app" })).GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        Assert.True((await Refused(new { url = "https://example.test/page", kind = "file" })).TryGetProperty("kind", out _));
        Assert.True((await Refused(new { url = "git@example.test:a/b.git", kind = "web" })).TryGetProperty("kind", out _));
        Assert.True((await Refused(new { url = "https://github.com/a/b", frequency = "1d" })).TryGetProperty("frequency", out _));

        Assert.Equal(HttpStatusCode.Created, (await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = "https://github.com/a/b" })).Status);
        var (duplicate, conflict) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = "https://github.com/a/b" });
        Assert.Equal(HttpStatusCode.Conflict, duplicate);
        Assert.Contains("has this URL already", conflict.Str("detail"), StringComparison.Ordinal);

        var analyst = await cloud.ClientWithRoleAsync("analyst");
        Assert.Equal(HttpStatusCode.OK, (await analyst.GetJsonAsync("/api/v1/sources")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await analyst.PostJsonAsync("/api/v1/sources", new { url = "https://github.com/c/d" })).Status);
    }

    [Fact]
    public async Task Claims_ConcurrentWorkers_OneGetsTheSource_LeaseRunsOut_RenewOnlyByOwner()
    {
        await using var cloud = await CloudHarness.StartAsync(NoWorker);
        var (_, created) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = "https://github.com/a/b" });
        var store = cloud.Service<SourceStore>();

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(w => store.ClaimDueAsync($"wk_{w}", TimeSpan.FromMilliseconds(700), CloudApi.Ct)));

        var winner = Assert.Single(claims.Select((c, i) => (c, i)), x => x.c is not null);
        Assert.Equal(created.Id(), winner.c!.Id);
        Assert.True((await cloud.Admin.GetJsonAsync($"/api/v1/sources/{created.Id()}")).Body.GetProperty("scanning").GetBoolean());
        Assert.Null(await store.ClaimDueAsync("wk_late", TimeSpan.FromMinutes(1), CloudApi.Ct));
        Assert.False(await store.RenewAsync(created.Id(), "wk_other", TimeSpan.FromMinutes(1), CloudApi.Ct));
        Assert.True(await store.RenewAsync(created.Id(), $"wk_{winner.i}", TimeSpan.FromMilliseconds(300), CloudApi.Ct));

        // The owner died: once its lease has run out another replica takes the source.
        await Task.Delay(400, CloudApi.Ct);
        var taken = await store.ClaimDueAsync("wk_next", TimeSpan.FromMinutes(1), CloudApi.Ct);
        Assert.Equal(created.Id(), taken?.Id);
        Assert.False(await store.RenewAsync(created.Id(), $"wk_{winner.i}", TimeSpan.FromMinutes(1), CloudApi.Ct));
    }

    [Theory]
    [InlineData("manual", true, null)]
    [InlineData("30m", true, 30.0)]
    [InlineData("6h", true, 360.0)]
    [InlineData("2w", true, 20160.0)]
    [InlineData("0h", false, null)]
    [InlineData("5y", false, null)]
    [InlineData("h", false, null)]
    public void Schedules_Parse(string text, bool valid, double? minutes)
    {
        Assert.Equal(valid, Schedules.TryParse(text, out var interval));
        Assert.Equal(minutes, interval?.TotalMinutes);
    }
}
