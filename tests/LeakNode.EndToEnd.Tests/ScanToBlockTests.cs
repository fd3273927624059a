using System.Net;
using System.Text.Json;
using LeakNode.Scanner.Tests.Support;
using LeakNode.Testing.Processes;

namespace LeakNode.EndToEnd.Tests;

/// <summary>
/// The whole product as real processes: the cloud's scheduled scan finds a token pushed to a repository, the leak
/// registers itself, a virtual patch is applied, and the node blocks the token — then a later push is found by an
/// incremental rescan.
/// </summary>
public sealed class ScanToBlockTests
{
    private static string StripeKey() =>
        "sk" + "_live_" + string.Concat(System.Security.Cryptography.RandomNumberGenerator.GetItems("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".AsSpan(), 32));

    [Fact]
    public async Task ScheduledScan_FindsTheLeak_VpatchBlocksItAtTheNode_RescanFindsTheNextPush()
    {
        using var repository = new GitRepository();
        var first = StripeKey();
        repository.Write("deploy/payments.env", $"STRIPE_SECRET_KEY={first}\n");
        repository.Commit("payments config");
        await using var deployment = new Deployment();
        await deployment.StartUpstreamAsync();
        await deployment.StartCloudAsync(new Dictionary<string, string>
        {
            ["LEAKNODE_Scanning__AllowLocalPaths"] = "true",
            ["LEAKNODE_Scanning__PollInterval"] = "00:00:00.200",
        });
        await deployment.StartNodeAsync();

        var source = await deployment.PostAsync("api/v1/sources", new { url = repository.FileUrl, schedule = "manual" });
        var leak = await FoundAsync(deployment, 1);
        Assert.Equal("open", leak.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, await deployment.AttemptAsync("/charges", first));

        await deployment.PostAsync($"api/v1/leaks/{leak.GetProperty("id").GetString()}/vpatch", new { comment = "found by the scan" });
        var blocked = await deployment.WaitUntilAsync(async () => await deployment.AttemptAsync("/charges", first) == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(10), () => "the node to block the scanned token after the vpatch");
        Assert.True(blocked <= TimeSpan.FromSeconds(1), $"The vpatch took {blocked.TotalMilliseconds:F0} ms to reach the node.");

        var second = StripeKey();
        repository.Write("deploy/billing.env", $"STRIPE_SECRET_KEY={second}\n");
        repository.Commit("billing config");
        await deployment.PostAsync($"api/v1/sources/{source.GetProperty("id").GetString()}/scan", new { });
        var next = await FoundAsync(deployment, 2);
        Assert.Contains("billing.env", next.GetProperty("name").GetString(), StringComparison.Ordinal);
        var runs = await deployment.GetAsync($"api/v1/sources/{source.GetProperty("id").GetString()}/runs");
        Assert.True(runs[0].GetProperty("incremental").GetBoolean());
        Assert.DoesNotContain(first, deployment.AllOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(second, deployment.AllOutput, StringComparison.Ordinal);
    }

    /// <summary>Waits until the cloud holds <paramref name="count"/> leaks; returns the newest.</summary>
    private static async Task<JsonElement> FoundAsync(Deployment deployment, int count)
    {
        JsonElement newest = default;
        await deployment.WaitUntilAsync(async () =>
        {
            var page = await deployment.GetAsync("api/v1/leaks?sort=newest");
            if (page.GetProperty("total").GetInt64() < count)
            {
                return false;
            }
            newest = page.GetProperty("items")[0].Clone();
            return true;
        }, TimeSpan.FromSeconds(60), () => $"{count} leaks found by the scan");
        return newest;
    }
}
