using System.Net;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Leaks;

/// <summary>Writers racing each other: every rule version taken once, and a token never ends up in two open leaks.</summary>
public sealed class LeakConcurrencyTests
{
    [Fact]
    public async Task Create_InParallel_TakesEveryVersionOnce()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = new Tokens(seed: 4606);
        var batches = Enumerable.Range(0, 16).Select(_ => tokens.Next(2)).ToList();

        var created = await Task.WhenAll(batches.Select((t, i) => cloud.Admin.CreateLeakAsync($"parallel {i}", t)));

        var feed = cloud.Service<IRuleFeed>();
        Assert.Equal(16, await feed.CurrentVersionAsync(CloudApi.Ct));
        var snapshot = await feed.SnapshotAsync(CloudApi.Ct);
        Assert.Equal(created.Select(c => c.Id()).Order(StringComparer.Ordinal), snapshot.Leaks.Select(l => l.Id).Order(StringComparer.Ordinal));
        for (var v = 0; v < 16; v++)
        {
            var delta = await feed.DeltaAsync(v, CloudApi.Ct);
            Assert.Equal(16 - v, delta!.Upserted.Count);
        }
    }

    [Fact]
    public async Task Create_SameTokenInParallel_OnlyOneLeakGetsIt()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = new Tokens(seed: 4707);
        var shared = tokens.Next();

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            cloud.Admin.PostJsonAsync("/api/v1/leaks", new { name = $"racer {i}", tokens = new[] { shared, tokens.Next() } })));

        Assert.Single(answers, a => a.Status == HttpStatusCode.Created);
        Assert.Equal(9, answers.Count(a => a.Status == HttpStatusCode.Conflict));
        var snapshot = await cloud.Service<IRuleFeed>().SnapshotAsync(CloudApi.Ct);
        Assert.Single(snapshot.Leaks);
        Assert.Equal(1, await cloud.Service<IRuleFeed>().CurrentVersionAsync(CloudApi.Ct));
    }

    [Fact]
    public async Task Transition_SameLeakInParallel_OnlyOneCloseWins()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var leak = await cloud.Admin.CreateLeakAsync("contested", new Tokens(seed: 4808).Next(1));

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/close", null)));

        Assert.Single(answers, a => a.Status == HttpStatusCode.OK);
        Assert.Equal(7, answers.Count(a => a.Status == HttpStatusCode.Conflict));
        var (_, final) = await cloud.Admin.GetJsonAsync($"/api/v1/leaks/{leak.Id()}");
        Assert.Equal(2, final.GetProperty("history").GetArrayLength());
        Assert.Equal(2, await cloud.Service<IRuleFeed>().CurrentVersionAsync(CloudApi.Ct));
    }
}
