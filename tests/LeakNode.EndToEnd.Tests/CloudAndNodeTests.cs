using System.Net;
using System.Text;
using System.Text.Json;
using LeakNode.Testing.Processes;

namespace LeakNode.EndToEnd.Tests;

/// <summary>
/// The cloud and a node as real processes: a decision taken in the cloud reaches the node within a second, every
/// attempt shows up in the cloud, and outages of either lose nothing.
/// </summary>
public sealed class CloudAndNodeTests
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);

    private static string NewToken() => "ghp_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));

    [Fact]
    public async Task Lifecycle_EachDecision_ReachesTheNodeWithinASecond()
    {
        await using var deployment = new Deployment();
        await deployment.StartUpstreamAsync();
        await deployment.StartCloudAsync();
        await deployment.StartNodeAsync();
        var token = NewToken();

        // A new leak is watched: the request passes, and the attempt is reported as monitored.
        var leak = await deployment.PostAsync("api/v1/leaks", new { name = "e2e leak", risk = 7, tokens = new[] { token } });
        var id = leak.GetProperty("id").GetString()!;
        // Attempts until the leak has reached the node and one is reported; every one of them is forwarded.
        await deployment.WaitUntilAsync(async () =>
        {
            Assert.Equal(HttpStatusCode.OK, await deployment.AttemptAsync("/watched", token));
            return (await Attacks(deployment, id)).Any(a => a.GetProperty("action").GetString() == "monitored");
        }, TimeSpan.FromSeconds(15), () => "a monitored attack event in the cloud");
        Assert.Contains("GET /watched", deployment.UpstreamRequests);

        // Virtual patch: blocked within a second.
        await deployment.PostAsync($"api/v1/leaks/{id}/vpatch", new { comment = "block" });
        var blocked = await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/after-vpatch", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block after the vpatch");
        Assert.True(blocked <= Propagation, $"The vpatch took {blocked.TotalMilliseconds:F0} ms to reach the node.");
        await deployment.WaitUntilAsync(async () => (await Attacks(deployment, id)).Any(a => a.GetProperty("action").GetString() == "blocked"),
            TimeSpan.FromSeconds(15), () => "a blocked attack event in the cloud");

        // Closed: no longer watched, passes again within a second.
        await deployment.PostAsync($"api/v1/leaks/{id}/close", new { comment = "rotated" });
        var passes = await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/after-close", token) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), () => "the node to forward after the close");
        Assert.True(passes <= Propagation, $"The close took {passes.TotalMilliseconds:F0} ms to reach the node.");

        // Reopened and patched again: blocked again.
        await deployment.PostAsync($"api/v1/leaks/{id}/reopen", new { comment = "seen again" });
        await deployment.PostAsync($"api/v1/leaks/{id}/vpatch", new { });
        var again = await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/after-reopen", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block after reopen and vpatch");
        Assert.True(again <= Propagation, $"Reopen + vpatch took {again.TotalMilliseconds:F0} ms to reach the node.");
        // Once blocked, a blocked request never reaches the upstream.
        Assert.Equal(HttpStatusCode.Forbidden, await deployment.AttemptAsync("/never-forwarded", token));
        Assert.DoesNotContain("GET /never-forwarded", deployment.UpstreamRequests);

        await deployment.KillNodeAsync();
        await deployment.KillCloudAsync();
        AssertNoPlaintext(deployment, token);
    }

    [Fact]
    public async Task Outages_CloudAndNodeDown_NodeBlocksFromCacheAndEveryEventArrivesOnce()
    {
        await using var deployment = new Deployment();
        await deployment.StartUpstreamAsync();
        await deployment.StartCloudAsync();
        await deployment.StartNodeAsync();
        var token = NewToken();
        var leak = await deployment.PostAsync("api/v1/leaks", new { name = "outage leak", tokens = new[] { token } });
        var id = leak.GetProperty("id").GetString()!;
        await deployment.PostAsync($"api/v1/leaks/{id}/vpatch", new { });
        await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/warm", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block");

        // The cloud dies: the node keeps blocking, and its events wait on disk. Each path is its own event
        // (events aggregate only identical attempts), so every one of them must arrive.
        await deployment.KillCloudAsync();
        var paths = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            paths.Add($"/cloud-down/{i}");
            Assert.Equal(HttpStatusCode.Forbidden, await deployment.AttemptAsync(paths[^1], token));
        }

        // The node restarts while the cloud is still down: ready at once from its cache, and blocking. Stopped
        // with SIGTERM, so it spools what it still holds in memory.
        Assert.Equal(0, await deployment.Node!.TerminateAsync(TimeSpan.FromSeconds(30)));
        await deployment.KillNodeAsync();
        var restart = System.Diagnostics.Stopwatch.StartNew();
        await deployment.StartNodeAsync();
        Assert.True(restart.Elapsed < TimeSpan.FromSeconds(15), $"The node took {restart.Elapsed} to be ready from its cache.");
        for (var i = 0; i < 10; i++)
        {
            paths.Add($"/cache/{i}");
            Assert.Equal(HttpStatusCode.Forbidden, await deployment.AttemptAsync(paths[^1], token));
        }
        Assert.DoesNotContain(deployment.UpstreamRequests, r => r.Contains("/cloud-down/", StringComparison.Ordinal) || r.Contains("/cache/", StringComparison.Ordinal));

        // The cloud comes back: every event arrives, none twice.
        await deployment.StartCloudAsync();
        await deployment.WaitUntilAsync(async () =>
        {
            var seen = (await Attacks(deployment, id)).Select(a => a.GetProperty("path").GetString()).ToList();
            return paths.All(seen.Contains);
        }, TimeSpan.FromSeconds(30), () => "every event of the outage in the cloud");
        var events = await Attacks(deployment, id);
        foreach (var path in paths)
        {
            Assert.Single(events, e => e.GetProperty("path").GetString() == path);
        }
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());

        await deployment.KillNodeAsync();
        await deployment.KillCloudAsync();
        AssertNoPlaintext(deployment, token);
    }

    private static async Task<List<JsonElement>> Attacks(Deployment deployment, string leakId)
    {
        var events = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await deployment.GetAsync($"api/v1/attacks?type=vpatch&leakId={Uri.EscapeDataString(leakId)}&limit=100" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            events.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return events;
    }

    /// <summary>The database, every file of the cloud's and the node's state, and every line either process wrote hold no plaintext token.</summary>
    private static void AssertNoPlaintext(Deployment deployment, string token)
    {
        var needle = Encoding.UTF8.GetBytes(token);
        foreach (var file in Directory.EnumerateFiles(deployment.Root, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{Path.GetRelativePath(deployment.Root, file)} holds the plaintext token.");
        }
        Assert.DoesNotContain(token, deployment.AllOutput, StringComparison.Ordinal);
    }
}
