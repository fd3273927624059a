using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LeakNode.Cloud.Sync;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Attacks;

public sealed class AttackStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static IncomingAttack Attack(string id, int second, string leakId = "lk_a", string action = "blocked") =>
        new(id, "vpatch", T0.AddSeconds(second), leakId, "tk_1", "0123456789abcdef", "ghp_…abcd", action, 1, "203.0.113.9", "GET", "api.example.test",
            "/v1/items", "header:Authorization", action == "blocked" ? 403 : 200);

    private static async Task<string> EnrollAsync(CloudHarness cloud, string name = "edge")
    {
        var (_, node) = await cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name });
        return node.Id();
    }

    [Fact]
    public async Task InsertBatch_ManyStreamsAtOnce_GroupCommitStoresEachOnceAndCountsPerBatch()
    {
        // Eight streams at once, each sending its own events and, in every second batch, a resend of another
        // stream's: the batches share commits, yet each caller gets its own batch's counts and no event is stored twice.
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var streams = Enumerable.Range(0, 8).Select(stream => Task.Run(async () =>
        {
            var results = new List<(int Stored, int Duplicates)>();
            for (var batch = 0; batch < 10; batch++)
            {
                var events = Enumerable.Range(0, 50).Select(i => Attack($"s{stream}-b{batch}-{i}", i)).ToList();
                results.Add(await store.InsertBatchAsync(nodeId, events, CloudApi.Ct));
                if (batch % 2 == 1)
                {
                    results.Add(await store.InsertBatchAsync(nodeId, events, CloudApi.Ct));
                }
            }
            return results;
        }, CloudApi.Ct)).ToList();

        var all = (await Task.WhenAll(streams)).SelectMany(r => r).ToList();

        Assert.Equal(8 * 10 * 50, all.Sum(r => r.Stored));
        Assert.Equal(8 * 5 * 50, all.Sum(r => r.Duplicates));
        Assert.All(all, r => Assert.Equal(50, r.Stored + r.Duplicates));
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?limit=1");
        Assert.Equal(8 * 10 * 50, page.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task InsertBatch_SameEventsFromStreamsAtOnce_OneStreamStoresEach()
    {
        // Two streams hand in overlapping batches at once, often into one group commit: each event is stored by one of
        // them and reported as a duplicate to the other, and the totals count it once.
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        for (var round = 0; round < 20; round++)
        {
            var first = Enumerable.Range(0, 30).Select(i => Attack($"r{round}-{i}", i)).ToList();
            var second = Enumerable.Range(10, 30).Select(i => Attack($"r{round}-{i}", i)).ToList();

            var results = await Task.WhenAll(
                Task.Run(() => store.InsertBatchAsync(nodeId, first, CloudApi.Ct), CloudApi.Ct),
                Task.Run(() => store.InsertBatchAsync(nodeId, second, CloudApi.Ct), CloudApi.Ct));

            Assert.Equal(40, results.Sum(r => r.Stored));
            Assert.Equal(20, results.Sum(r => r.Duplicates));
        }
        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?limit=1");
        Assert.Equal(20 * 40, page.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task InsertBatch_Resent_StoresEachEventOnce()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var batch = Enumerable.Range(0, 10).Select(i => Attack($"ev-{i}", i)).ToList();

        Assert.Equal((10, 0), await store.InsertBatchAsync(nodeId, batch, CloudApi.Ct));
        Assert.Equal((0, 10), await store.InsertBatchAsync(nodeId, batch, CloudApi.Ct));
        Assert.Equal((2, 1), await store.InsertBatchAsync(nodeId, [Attack("ev-9", 9), Attack("ev-10", 10), Attack("ev-11", 11)], CloudApi.Ct));

        var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?limit=100");
        Assert.Equal(12, page.GetProperty("total").GetInt64());
        var first = page.GetProperty("items")[0];
        Assert.Equal("ev-11", first.Id());
        Assert.Equal(nodeId, first.Str("nodeId"));
        Assert.Equal("vpatch", first.Str("type"));
        Assert.Equal("blocked", first.Str("action"));
        Assert.Equal("header:Authorization", first.Str("location"));
        Assert.Equal(403, first.GetProperty("statusCode").GetInt32());
        Assert.Equal(T0.AddSeconds(11), first.GetProperty("time").GetDateTimeOffset());
    }

    [Fact]
    public async Task InsertBatch_TwentyThousandEvents_IsFast()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        var batches = Enumerable.Range(0, 40).Select(b => Enumerable.Range(0, 500).Select(i => Attack($"ev-{b}-{i}", b * 500 + i)).ToList()).ToList();
        await store.InsertBatchAsync(nodeId, [Attack("warm-up", 0)], CloudApi.Ct);

        var clock = Stopwatch.StartNew();
        var stored = 0;
        foreach (var batch in batches)
        {
            stored += (await store.InsertBatchAsync(nodeId, batch, CloudApi.Ct)).Stored;
        }
        clock.Stop();

        Assert.Equal(20_000, stored);
        var rate = stored / clock.Elapsed.TotalSeconds;
        TestContext.Current.TestOutputHelper?.WriteLine($"{rate:N0} events/s ({clock.ElapsedMilliseconds} ms for 20,000)");
        // The target is 20,000 events/s; the bound is loose because the test machine is shared.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"20,000 events took {clock.Elapsed}");
    }

    [Fact]
    public async Task List_Filters_SelectTheMatchingEvents()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        await cloud.Service<IAttackStore>().InsertBatchAsync(nodeId,
        [
            Attack("a1", 0, "lk_a", "blocked"),
            Attack("a2", 10, "lk_a", "monitored"),
            Attack("b1", 20, "lk_b", "blocked"),
            Attack("b2", 30, "lk_b", "monitored"),
            Attack("b3", 40, "lk_b", "blocked"),
        ], CloudApi.Ct);

        async Task<string[]> Ids(string query)
        {
            var (status, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?" + query);
            Assert.True(status == HttpStatusCode.OK, page.ToString());
            return [.. page.GetProperty("items").EnumerateArray().Select(i => i.Id())];
        }

        Assert.Equal(["b3", "b2", "b1", "a2", "a1"], await Ids(""));
        Assert.Equal(["b3", "b2", "b1"], await Ids("leakId=lk_b"));
        Assert.Equal(["b3", "b1", "a1"], await Ids("action=blocked"));
        Assert.Equal(["b2"], await Ids("action=monitored&leakId=lk_b"));
        Assert.Equal(["b3", "b2", "b1", "a2", "a1"], await Ids("type=vpatch"));
        Assert.Equal(["b2", "b1"], await Ids($"from={Uri.EscapeDataString(T0.AddSeconds(20).ToString("O"))}&to={Uri.EscapeDataString(T0.AddSeconds(40).ToString("O"))}"));
    }

    [Fact]
    public async Task List_CursorWalk_ReturnsEveryEventOnce()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        // Several events in the same millisecond: the id breaks the tie.
        await cloud.Service<IAttackStore>().InsertBatchAsync(nodeId, [.. Enumerable.Range(0, 23).Select(i => Attack($"e{i:D2}", i / 3))], CloudApi.Ct);
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var (_, page) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?limit=4" + (cursor is null ? "" : "&cursor=" + cursor));
            seen.AddRange(page.GetProperty("items").EnumerateArray().Select(i => i.Id()));
            Assert.Equal(23, page.GetProperty("total").GetInt64());
            cursor = page.GetProperty("nextCursor").ValueKind == JsonValueKind.Null ? null : page.Str("nextCursor");
        }
        while (cursor is not null);
        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"e{i:D2}").Reverse(), seen);
    }

    [Theory]
    [InlineData("type=waf", "type")]
    [InlineData("action=allowed", "action")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    [InlineData("limit=-1", "limit")]
    [InlineData("cursor=%%%", "cursor")]
    public async Task List_BadQuery_Answers400(string query, string field)
    {
        await using var cloud = await CloudHarness.StartAsync();
        var (status, problem) = await cloud.Admin.GetJsonAsync("/api/v1/attacks?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task RecordDropped_AddsUpPerNode()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var nodeId = await EnrollAsync(cloud);
        var store = cloud.Service<IAttackStore>();
        await store.RecordDroppedAsync(nodeId, 5, CloudApi.Ct);
        await store.RecordDroppedAsync(nodeId, 7, CloudApi.Ct);
        var (_, list) = await cloud.Admin.GetJsonAsync("/api/v1/nodes");
        Assert.Equal(12, list[0].GetProperty("droppedEvents").GetInt64());
    }
}
