using System.Net;
using System.Text;
using LeakNode.Node.Tests.RuleSync;
using LeakNode.Node.Tests.Support;
using LeakNode.Testing;
using static LeakNode.Node.Tests.Rules.RuleReloadTests;

namespace LeakNode.Node.Tests.Events;

public sealed class EventShippingTests
{
    private static readonly CancellationToken Cancel = TestContext.Current.CancellationToken;

    private readonly string _token = "ghp_" + new TokenFactory(77).Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);

    /// <summary>A cloud whose snapshot blocks <see cref="_token"/>, and a node that has acked it.</summary>
    private async Task<(CloudFixture Cloud, NodeHarness Node)> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var cloud = await CloudFixture.StartAsync();
        return (cloud, await cloud.StartNodeWithLeakAsync(_token, settings: settings));
    }

    private async Task AttackAsync(NodeHarness node, int count, string path = "/api")
    {
        for (var i = 0; i < count; i++)
        {
            // A different path each time: identical attempts would fold into one event.
            using var response = await node.Client.GetAsync(new Uri($"{path}/{i}?key={_token}", UriKind.Relative), Cancel);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task CloudUp_EventsArriveInBatchesAndAreAcked()
    {
        var (cloud, node) = await StartAsync();
        await using var _ = cloud;

        await AttackAsync(node, 3);

        await Eventually(() => Task.FromResult(cloud.Script.Stored.Count == 3));
        var attack = cloud.Script.Stored.Values.First();
        Assert.Equal("leak-a", attack.LeakId);
        Assert.Equal("vpatch", attack.Type);
        Assert.Equal("blocked", attack.Action);
        Assert.Equal("leak-a/t0", attack.TokenId);
        Assert.DoesNotContain(_token, attack.ToString(), StringComparison.Ordinal);
        await Eventually(async () => (await node.StatusAsync()).GetProperty("events").GetProperty("shipped").GetInt64() == 3);
        // The JSON log line per event stays as it was.
        Assert.Equal(3, node.Logs.Count(l => l.Contains("[3000]", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task LostAck_BatchIsSentAgainWithTheSameIdsAndTimes()
    {
        // The cloud's key for an event is its id and time (the time partitions PostgreSQL's table): a resend must
        // carry both unchanged, or it would be stored twice.
        var (cloud, node) = await StartAsync();
        await using var _ = cloud;
        cloud.Script.LoseNextAck = true;

        await AttackAsync(node, 2);

        await Eventually(() => Task.FromResult(cloud.Script.Batches.Count(b => b.Events.Count > 0) >= 2));
        var batches = cloud.Script.Batches.Where(b => b.Events.Count > 0).ToArray();
        var first = batches[0].Events.Select(e => (e.Id, e.TimeUnixMs)).Order().ToArray();
        var again = batches.Skip(1).SelectMany(b => b.Events).Select(e => (e.Id, e.TimeUnixMs)).Where(first.Contains).Order().ToArray();
        Assert.Equal(first, again);
        Assert.Equal(2, cloud.Script.Stored.Count);
    }

    [Fact]
    public async Task CloudGone_NodeKeepsBlocking_SpoolIsBoundedAndDropsAreCountedAndReported()
    {
        const int Attacks = 600;
        var (cloud, node) = await StartAsync(new Dictionary<string, string?> { ["Events:SpoolMaxBytes"] = "65536", ["Events:BatchSize"] = "20" });
        await using var _ = cloud;
        await cloud.Cloud.StopAsync();

        await AttackAsync(node, Attacks);

        await Eventually(async () =>
        {
            var now = (await node.StatusAsync()).GetProperty("events");
            return now.GetProperty("dropped").GetInt64() > 0 && now.GetProperty("spooled").GetInt64() + now.GetProperty("dropped").GetInt64() == Attacks;
        });
        var events = (await node.StatusAsync()).GetProperty("events");
        Assert.InRange(events.GetProperty("spoolBytes").GetInt64(), 1, 65536);
        var spoolFiles = Directory.GetFiles(Path.Combine(cloud.StateDir, "spool"));
        Assert.InRange(spoolFiles.Sum(f => new FileInfo(f).Length), 1, 65536);
        var dropped = events.GetProperty("dropped").GetInt64();
        var metrics = await node.Admin.GetStringAsync(new Uri("/metrics", UriKind.Relative), Cancel);
        Assert.Contains("leaknode_events_spool_dropped", metrics, StringComparison.Ordinal);
        Assert.Contains(node.Logs, l => l.Contains("[3004]", StringComparison.Ordinal));

        await cloud.Cloud.RestartAsync();

        await Eventually(async () => (await node.StatusAsync()).GetProperty("events").GetProperty("spooled").GetInt64() == 0, seconds: 20);
        await Eventually(() => Task.FromResult(cloud.Script.Batches.Aggregate(0UL, (sum, b) => sum + b.Dropped) == (ulong)dropped));
        Assert.Equal(Attacks - dropped, cloud.Script.Stored.Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(cloud.StateDir, "spool")));
    }

    [Fact]
    public async Task Stop_EventsStillInMemory_GoToTheSpool()
    {
        // A batch interval of a minute keeps the events in the batch being filled until the node stops.
        var (cloud, node) = await StartAsync(new Dictionary<string, string?> { ["Events:BatchInterval"] = "00:01:00" });
        await using var _ = cloud;
        await cloud.Cloud.StopAsync();

        await AttackAsync(node, 3);
        await Eventually(async () => (await node.StatusAsync()).GetProperty("events").GetProperty("queued").GetInt32() == 3);
        Assert.Empty(Directory.GetFiles(Path.Combine(cloud.StateDir, "spool")));
        await cloud.StopNodeAsync(node);

        var spooled = Directory.GetFiles(Path.Combine(cloud.StateDir, "spool"))
            .Select(f => LeakNode.Protocol.V1.EventBatch.Parser.ParseFrom(File.ReadAllBytes(f)))
            .SelectMany(b => b.Events)
            .ToArray();
        Assert.Equal(3, spooled.Length);
        Assert.Equal(3, spooled.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task DroppedConnection_NodeReconnectsWithItsVersionAndKeepsBlocking()
    {
        var (cloud, node) = await StartAsync();
        await using var _ = cloud;

        cloud.Script.DropAll();

        await Eventually(() => Task.FromResult(cloud.Script.Hellos.Count == 2));
        var hello = cloud.Script.Hellos.Last();
        Assert.Equal(1, hello.RuleVersion);
        Assert.Equal(cloud.Script.KeyId, hello.KeyId);
        await AttackAsync(node, 1);
        await Eventually(async () => (await node.StatusAsync()).GetProperty("cloud").GetProperty("state").GetString() == "connected");
    }

    [Fact]
    public async Task Restart_WithoutCloud_ReadyAtOnceFromCache_ThenEverySpooledEventArrives()
    {
        var (cloud, node) = await StartAsync();
        await using var _ = cloud;
        var keyId = cloud.Script.KeyId;
        await cloud.Cloud.StopAsync();
        await AttackAsync(node, 5, "/before");
        await cloud.StopNodeAsync(node);

        node = await cloud.StartNodeAsync();

        // Ready at once: no waiting for the cloud, which is down.
        using (var ready = await node.Admin.GetAsync(new Uri("/readyz", UriKind.Relative), Cancel))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }
        await AttackAsync(node, 1, "/after");
        var status = await node.StatusAsync();
        Assert.Equal("cache", status.GetProperty("rules").GetProperty("source").GetString());
        Assert.Equal(1, status.GetProperty("rules").GetProperty("version").GetInt64());
        Assert.NotEqual("connected", status.GetProperty("cloud").GetProperty("state").GetString());
        await Eventually(async () => (await node.StatusAsync()).GetProperty("events").GetProperty("spooled").GetInt64() == 6);

        // Digests only, never the token, anywhere in the state directory.
        foreach (var file in Directory.EnumerateFiles(cloud.StateDir, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, Cancel);
            Assert.DoesNotContain(_token, Encoding.Latin1.GetString(bytes), StringComparison.Ordinal);
        }
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(cloud.StateDir, "deployment.key")));
        }

        await cloud.Cloud.RestartAsync();

        await Eventually(() => Task.FromResult(cloud.Script.Stored.Count == 6), seconds: 20);
        Assert.Equal(5, cloud.Script.Stored.Values.Count(e => e.Path.StartsWith("/before/", StringComparison.Ordinal)));
        Assert.Equal(1, cloud.Script.Stored.Values.Count(e => e.Path.StartsWith("/after/", StringComparison.Ordinal)));
        await Eventually(() => Task.FromResult(cloud.Script.Hellos.Count == 2));
        var hello = cloud.Script.Hellos.Last();
        Assert.Equal(1, hello.RuleVersion);
        Assert.Equal(keyId, hello.KeyId);
        await Eventually(async () => (await node.StatusAsync()).GetProperty("events").GetProperty("spooled").GetInt64() == 0);
    }
}
