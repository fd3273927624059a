using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Cloud.Tests.Sources;

/// <summary>
/// The scan worker against real git repositories: a registered source is scanned at once, findings become leaks,
/// a rescan reads only the new commits, and a leak marked false stays false.
/// </summary>
public sealed class ScanWorkerTests
{
    private static Dictionary<string, string?> Fast => new()
    {
        ["Scanning:AllowLocalPaths"] = "true",
        ["Scanning:PollInterval"] = "00:00:00.200",
    };

    [Fact]
    public async Task GitSource_FirstScanFilesLeaks_RescanReadsOnlyNewCommits_FalseStaysFalse()
    {
        using var repository = new GitRepository();
        var secrets = new SecretFactory(21);
        var first = secrets.GitHubStyle("gh" + "p_");
        repository.Write("config/.env", $"GITHUB_TOKEN={first}\n");
        var introduced = repository.Commit("add config");
        repository.Write("config/.env", "GITHUB_TOKEN=\n");
        repository.Commit("remove the token");
        await using var cloud = await CloudHarness.StartAsync(Fast);

        var (status, source) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = repository.FileUrl, schedule = "manual" });
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("git", source.Str("kind"));
        var run = await LastRunAsync(cloud.Admin, source.Id(), null);

        Assert.Equal("succeeded", run.Str("status"));
        Assert.Equal("first", run.Str("trigger"));
        Assert.False(run.GetProperty("incremental").GetBoolean());
        Assert.Equal(1, run.GetProperty("newLeaks").GetInt32());
        var leak = Assert.Single(await FindingsApiTests.LeaksAsync(cloud.Admin));
        var place = Assert.Single(leak.GetProperty("sources").EnumerateArray());
        Assert.Equal(repository.FileUrl, place.Str("url"));
        Assert.Equal($"config/.env:1@{introduced[..12]}", place.Str("location"));
        Assert.Contains(leak.GetProperty("risk").GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("not at HEAD", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/mark-false", new { comment = "revoked test token" })).Status);

        // A new commit brings a second token, and the first one back in another file.
        var second = secrets.GitHubStyle("gh" + "p_");
        repository.Write("deploy/ci.yml", $"token: {second}\nold: {first}\n");
        repository.Commit("ci");

        var (requested, _) = await cloud.Admin.PostJsonAsync($"/api/v1/sources/{source.Id()}/scan", null);
        Assert.Equal(HttpStatusCode.Accepted, requested);
        var rescan = await LastRunAsync(cloud.Admin, source.Id(), run.Id());

        Assert.Equal("succeeded", rescan.Str("status"));
        Assert.Equal("manual", rescan.Str("trigger"));
        Assert.True(rescan.GetProperty("incremental").GetBoolean());
        // Only the new commit's blob is read: one document, not the history again.
        Assert.Equal(1, rescan.GetProperty("documents").GetInt64());
        Assert.Equal(1, rescan.GetProperty("newLeaks").GetInt32());
        var leaks = await FindingsApiTests.LeaksAsync(cloud.Admin);
        Assert.Equal(2, leaks.Count);
        var marked = leaks.Single(l => l.Id() == leak.Id());
        Assert.Equal("false", marked.Str("status"));
        Assert.Equal(2, marked.GetProperty("sources").GetArrayLength());
        var fresh = leaks.Single(l => l.Id() != leak.Id());
        Assert.Equal("open", fresh.Str("status"));
        Assert.Contains(fresh.GetProperty("risk").GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("still present at HEAD", StringComparison.Ordinal));

        var (_, runs) = await cloud.Admin.GetJsonAsync($"/api/v1/sources/{source.Id()}/runs");
        Assert.Equal(["manual", "first"], runs.EnumerateArray().Select(r => r.Str("trigger")).ToArray());
    }

    [Fact]
    public async Task Source_ThatCannotBeRead_RunFailsWithTheReason_WorkerGoesOn()
    {
        await using var cloud = await CloudHarness.StartAsync(Fast);
        var missing = Path.Combine(Path.GetTempPath(), "leaknode-no-such-repo-" + Guid.NewGuid().ToString("N"));
        var (_, source) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = missing, schedule = "manual" });

        var run = await LastRunAsync(cloud.Admin, source.Id(), null);

        Assert.Equal("failed", run.Str("status"));
        Assert.Contains("does not exist", run.Str("error"), StringComparison.Ordinal);

        using var folder = new TempFolder();
        folder.Write("notes.txt", "stripe: " + new SecretFactory(22).Tokens["stripe-live-secret-key"]() + "\n");
        var (_, second) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = folder.Path, schedule = "manual" });
        Assert.Equal("file", second.Str("kind"));
        Assert.Equal("succeeded", (await LastRunAsync(cloud.Admin, second.Id(), null)).Str("status"));
        Assert.Single(await FindingsApiTests.LeaksAsync(cloud.Admin));
    }

    [Fact]
    public async Task InventoryToken_FoundByAScheduledScan_IsACriticalLeak()
    {
        await using var cloud = await CloudHarness.StartAsync(Fast);
        // An in-house format no detector knows: only the inventory can find it.
        var issued = "corp-svc-" + new SecretFactory(24).Chars("abcdefghijklmnopqrstuvwxyz0123456789", 32);
        Assert.Equal(HttpStatusCode.Created, (await cloud.Admin.PostJsonAsync("/api/v1/inventory", new { tokens = new[] { issued }, label = "billing service" })).Status);
        using var folder = new TempFolder();
        folder.Write("notes/handover.md", $"the billing service key is {issued} until rotated\n");

        var (_, source) = await cloud.Admin.PostJsonAsync("/api/v1/sources", new { url = folder.Path, schedule = "manual" });
        var run = await LastRunAsync(cloud.Admin, source.Id(), null);

        Assert.Equal(1, run.GetProperty("newLeaks").GetInt32());
        var leak = Assert.Single(await FindingsApiTests.LeaksAsync(cloud.Admin));
        Assert.True(leak.GetProperty("risk").GetProperty("score").GetInt32() >= 9);
        Assert.Contains(leak.GetProperty("risk").GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("inventory", StringComparison.Ordinal));
        Assert.Equal("notes/handover.md:1", Assert.Single(leak.GetProperty("sources").EnumerateArray()).Str("location"));
    }

    [Fact]
    public async Task TwoReplicas_OverOneDatabase_ScanEachSourceOnce()
    {
        var secrets = new SecretFactory(23);
        var folders = Enumerable.Range(0, 6).Select(_ => new TempFolder()).ToList();
        try
        {
            foreach (var folder in folders)
            {
                folder.Write("app.env", "STRIPE_KEY=" + secrets.Tokens["stripe-live-secret-key"]() + "\n");
            }
            var settings = Fast;
            settings["Scanning:PollInterval"] = "00:00:00.050";
            await using var a = await CloudHarness.StartAsync(settings);
            await using var b = await CloudHarness.StartAsync(settings, folder: a.Folder, adminKey: a.AdminKey);

            var ids = new List<string>();
            foreach (var folder in folders)
            {
                var (status, source) = await a.Admin.PostJsonAsync("/api/v1/sources", new { url = folder.Path, schedule = "manual" });
                Assert.Equal(HttpStatusCode.Created, status);
                ids.Add(source.Id());
            }
            foreach (var id in ids)
            {
                Assert.Equal("succeeded", (await LastRunAsync(b.Admin, id, null)).Str("status"));
            }

            // Each source was claimed by one replica and scanned once; each token is one leak.
            foreach (var id in ids)
            {
                var (_, runs) = await b.Admin.GetJsonAsync($"/api/v1/sources/{id}/runs");
                Assert.Equal(1, runs.GetArrayLength());
            }
            Assert.Equal(6, (await FindingsApiTests.LeaksAsync(a.Admin)).Count);
            var scannedBy = new[] { a, b }.Select(r => r.Logs.Count(l => l.Contains("Sources.ScanWorker", StringComparison.Ordinal) && l.Contains(" finished in ", StringComparison.Ordinal))).ToArray();
            Assert.Equal(6, scannedBy.Sum());
        }
        finally
        {
            folders.ForEach(f => f.Dispose());
        }
    }

    /// <summary>Waits for a finished run other than <paramref name="previous"/>.</summary>
    private static async Task<JsonElement> LastRunAsync(HttpClient client, string sourceId, string? previous)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var (_, source) = await client.GetJsonAsync($"/api/v1/sources/{sourceId}");
            if (source.GetProperty("lastRun") is { ValueKind: JsonValueKind.Object } run && run.Id() != previous && run.Str("status") != "running")
            {
                return run;
            }
            await Task.Delay(100, CloudApi.Ct);
        }
        throw new TimeoutException($"source {sourceId} was not scanned within 60 s");
    }
}
