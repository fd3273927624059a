using System.Net;
using System.Text;
using System.Text.Json;
using LeakNode.EndToEnd.Tests.Support;

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
        await using var stack = new Stack();
        await stack.StartUpstreamAsync();
        await stack.StartCloudAsync();
        await stack.StartNodeAsync();
        var token = NewToken();

        // A new leak is watched: the request passes, and the attempt is reported as monitored.
        var leak = await stack.PostAsync("api/v1/leaks", new { name = "e2e leak", risk = 7, tokens = new[] { token } });
        var id = leak.GetProperty("id").GetString()!;
        await stack.WaitUntilAsync(async () => await stack.AttemptAsync("/watched", token) == HttpStatusCode.OK && stack.UpstreamRequests.Contains("GET /watched"),
            TimeSpan.FromSeconds(10), () => "the request with a watched token to be forwarded");
        await stack.WaitUntilAsync(async () => (await Attacks(stack, id)).Any(a => a.GetProperty("action").GetString() == "monitored"),
            TimeSpan.FromSeconds(15), () => "a monitored attack event in the cloud");

        // Virtual patch: blocked within a second.
        await stack.PostAsync($"api/v1/leaks/{id}/vpatch", new { comment = "block" });
        var blocked = await stack.WaitUntilAsync(async () => await stack.AttemptAsync("/after-vpatch", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block after the vpatch");
        Assert.True(blocked <= Propagation, $"The vpatch took {blocked.TotalMilliseconds:F0} ms to reach the node.");
        await stack.WaitUntilAsync(async () => (await Attacks(stack, id)).Any(a => a.GetProperty("action").GetString() == "blocked"),
            TimeSpan.FromSeconds(15), () => "a blocked attack event in the cloud");

        // Closed: no longer watched, passes again within a second.
        await stack.PostAsync($"api/v1/leaks/{id}/close", new { comment = "rotated" });
        var passes = await stack.WaitUntilAsync(async () => await stack.AttemptAsync("/after-close", token) == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10), () => "the node to forward after the close");
        Assert.True(passes <= Propagation, $"The close took {passes.TotalMilliseconds:F0} ms to reach the node.");

        // Reopened and patched again: blocked again.
        await stack.PostAsync($"api/v1/leaks/{id}/reopen", new { comment = "seen again" });
        await stack.PostAsync($"api/v1/leaks/{id}/vpatch", new { });
        var again = await stack.WaitUntilAsync(async () => await stack.AttemptAsync("/after-reopen", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block after reopen and vpatch");
        Assert.True(again <= Propagation, $"Reopen + vpatch took {again.TotalMilliseconds:F0} ms to reach the node.");
        Assert.DoesNotContain("GET /after-vpatch", stack.UpstreamRequests);
        Assert.DoesNotContain("GET /after-reopen", stack.UpstreamRequests);

        await stack.KillNodeAsync();
        await stack.KillCloudAsync();
        AssertNoPlaintext(stack, token);
    }

    [Fact]
    public async Task Outages_CloudAndNodeDown_NodeBlocksFromCacheAndEveryEventArrivesOnce()
    {
        await using var stack = new Stack();
        await stack.StartUpstreamAsync();
        await stack.StartCloudAsync();
        await stack.StartNodeAsync();
        var token = NewToken();
        var leak = await stack.PostAsync("api/v1/leaks", new { name = "outage leak", tokens = new[] { token } });
        var id = leak.GetProperty("id").GetString()!;
        await stack.PostAsync($"api/v1/leaks/{id}/vpatch", new { });
        await stack.WaitUntilAsync(async () => await stack.AttemptAsync("/warm", token) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block");

        // The cloud dies: the node keeps blocking, and its events wait on disk. Each path is its own event
        // (events aggregate only identical attempts), so every one of them must arrive.
        await stack.KillCloudAsync();
        var paths = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            paths.Add($"/cloud-down/{i}");
            Assert.Equal(HttpStatusCode.Forbidden, await stack.AttemptAsync(paths[^1], token));
        }

        // The node restarts while the cloud is still down: ready at once from its cache, and blocking. Stopped
        // with SIGTERM, so it spools what it still holds in memory.
        Assert.Equal(0, await stack.Node!.TerminateAsync(TimeSpan.FromSeconds(30)));
        await stack.KillNodeAsync();
        var restart = System.Diagnostics.Stopwatch.StartNew();
        await stack.StartNodeAsync();
        Assert.True(restart.Elapsed < TimeSpan.FromSeconds(15), $"The node took {restart.Elapsed} to be ready from its cache.");
        for (var i = 0; i < 10; i++)
        {
            paths.Add($"/cache/{i}");
            Assert.Equal(HttpStatusCode.Forbidden, await stack.AttemptAsync(paths[^1], token));
        }
        Assert.DoesNotContain(stack.UpstreamRequests, r => r.Contains("/cloud-down/", StringComparison.Ordinal) || r.Contains("/cache/", StringComparison.Ordinal));

        // The cloud comes back: every event arrives, none twice.
        await stack.StartCloudAsync();
        await stack.WaitUntilAsync(async () =>
        {
            var seen = (await Attacks(stack, id)).Select(a => a.GetProperty("path").GetString()).ToList();
            return paths.All(seen.Contains);
        }, TimeSpan.FromSeconds(30), () => "every event of the outage in the cloud");
        var events = await Attacks(stack, id);
        foreach (var path in paths)
        {
            Assert.Single(events, e => e.GetProperty("path").GetString() == path);
        }
        Assert.Equal(events.Count, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());

        await stack.KillNodeAsync();
        await stack.KillCloudAsync();
        AssertNoPlaintext(stack, token);
    }

    private static async Task<List<JsonElement>> Attacks(Stack stack, string leakId)
    {
        var events = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await stack.GetAsync($"api/v1/attacks?type=vpatch&leakId={Uri.EscapeDataString(leakId)}&limit=100" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            events.AddRange(page.GetProperty("items").EnumerateArray());
            cursor = page.TryGetProperty("nextCursor", out var next) && next.ValueKind == JsonValueKind.String ? next.GetString() : null;
        }
        while (cursor is not null);
        return events;
    }

    /// <summary>The database, every file of the cloud's and the node's state, and every line either process wrote hold no plaintext token.</summary>
    private static void AssertNoPlaintext(Stack stack, string token)
    {
        var needle = Encoding.UTF8.GetBytes(token);
        foreach (var file in Directory.EnumerateFiles(stack.Root, "*", SearchOption.AllDirectories))
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{Path.GetRelativePath(stack.Root, file)} holds the plaintext token.");
        }
        Assert.DoesNotContain(token, stack.AllOutput, StringComparison.Ordinal);
    }
}
