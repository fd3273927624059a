using LeakNode.Cloud.Rules;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Rules;

/// <summary>Several cloud replicas over one PostgreSQL database: a rule version committed through one wakes the node streams of the others.</summary>
public sealed class ReplicaSignalTests
{
    [Fact]
    public async Task TwoReplicas_ChangeThroughOne_WakesWaitersOnTheOtherWithinASecond()
    {
        if (CloudHarness.PostgresServer is null)
        {
            Assert.Skip("PostgreSQL only: replicas share a PostgreSQL database (test.sh runs this suite on PostgreSQL too)");
        }
        await using var a = await CloudHarness.StartAsync();
        await using var b = await CloudHarness.StartAsync(folder: a.Folder, adminKey: a.AdminKey);
        await b.Service<PostgresRuleVersionSignal>().Listening.Task.WaitAsync(TimeSpan.FromSeconds(10), CloudApi.Ct);
        var feed = b.Service<Cloud.Sync.IRuleFeed>();
        var tokens = new Tokens(81);

        for (var round = 0; round < 5; round++)
        {
            var before = await feed.CurrentVersionAsync(CloudApi.Ct);
            var woken = feed.WaitForVersionAsync(before, CloudApi.Ct);
            Assert.False(woken.IsCompleted);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            await a.Admin.CreateLeakAsync("replica " + round, [tokens.Next()]);
            await woken.WaitAsync(TimeSpan.FromSeconds(1), CloudApi.Ct);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"replica B woke after {clock.ElapsedMilliseconds} ms");
            Assert.True(await feed.CurrentVersionAsync(CloudApi.Ct) > before);
        }
    }
}
