using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Notifications;
using LeakNode.Cloud.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace LeakNode.Cloud.Tests.Notifications;

/// <summary>Claiming through the database: workers (replicas) that claim at once never get the same delivery.</summary>
public sealed class DeliveryClaimTests
{
    [Fact]
    public async Task Claim_ConcurrentWorkers_GetDisjointDeliveriesAndLeasesHold()
    {
        var settings = NotificationTestKit.Fast();
        settings["Notifications:Enabled"] = "false";
        await using var cloud = await CloudHarness.StartAsync(settings);
        await cloud.Admin.CreateChannelAsync(NotificationTestKit.Webhook("nobody listens", new Uri("http://127.0.0.1:9/hook"), "claim-test-secret-0123"));
        var tokens = new Tokens(721);
        for (var i = 0; i < 20; i++)
        {
            await cloud.Admin.CreateLeakAsync($"leak {i}", tokens.Next(1));
        }
        var store = cloud.Service<DeliveryStore>();

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(w => store.ClaimAsync($"wk_{w}", 8, TimeSpan.FromMinutes(1), CloudApi.Ct)));

        // On PostgreSQL a worker that loses a race for a row skips it (its UPDATE re-checks the claim) and may get
        // fewer than it asked for; what it misses, the next claim gets. No row is ever claimed twice.
        var ids = claims.SelectMany(c => c.Select(d => d.Id)).ToList();
        ids.AddRange((await store.ClaimAsync("wk_rest", 50, TimeSpan.FromMinutes(1), CloudApi.Ct)).Select(d => d.Id));
        Assert.Equal(20, ids.Count);
        Assert.Equal(20, ids.Distinct().Count());
        Assert.Empty(await store.ClaimAsync("wk_late", 8, TimeSpan.FromMinutes(1), CloudApi.Ct));

        // A stopping worker gives its claims back: they are due again at once.
        Assert.Equal(claims[0].Count, await store.ReleaseAsync("wk_0", CloudApi.Ct));
        Assert.Equal(claims[0].Select(d => d.Id).Order(), (await store.ClaimAsync("wk_next", 50, TimeSpan.FromMinutes(1), CloudApi.Ct)).Select(d => d.Id).Order());
    }

    [Fact]
    public void Configuration_BadNotificationSettings_EveryProblemNamed()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Notifications:MaxAttempts"] = "0",
            ["Notifications:SendTimeout"] = "00:01:00",
            ["Notifications:ClaimLease"] = "00:00:30",
            ["Notifications:Digest:Time"] = "25:00",
            ["Notifications:Digest:TimeZone"] = "Mars/Olympus",
            ["Notifications:Retries"] = "3",
            ["Listen:PublicUrl"] = "console.example.test",
        }).Build();

        var (_, problems) = CloudConfiguration.Load(configuration);

        string[] keys = ["Listen:PublicUrl", "Notifications:ClaimLease", "Notifications:Digest:Time", "Notifications:Digest:TimeZone", "Notifications:MaxAttempts", "Notifications:Retries"];
        Assert.Equal(keys.Length, problems.Count);
        Assert.All(keys, key => Assert.Contains(problems, p => p.StartsWith(key + ": ", StringComparison.Ordinal)));
    }
}
