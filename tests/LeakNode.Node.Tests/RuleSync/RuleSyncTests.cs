using System.Net;
using LeakNode.Node.Tests.Support;
using LeakNode.Protocol.V1;
using LeakNode.Testing;
using static LeakNode.Node.Tests.Rules.RuleReloadTests;
using ProtoAction = LeakNode.Protocol.V1.RuleAction;
using RuleAction = LeakNode.Matching.Rules.RuleAction;

namespace LeakNode.Node.Tests.RuleSync;

public sealed class RuleSyncTests
{
    private static readonly CancellationToken Cancel = TestContext.Current.CancellationToken;

    private readonly TokenFactory _tokens = new(4242);

    private static async Task<HttpStatusCode> SendAsync(NodeHarness node, string token)
    {
        using var response = await node.Client.GetAsync(new Uri("/api?key=" + token, UriKind.Relative), Cancel);
        return response.StatusCode;
    }

    private string Token() => "ghp_" + _tokens.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);

    [Fact]
    public async Task Snapshot_InParts_NodeBlocksAndAcksTheVersion()
    {
        await using var cloud = await CloudFixture.StartAsync();
        string blocked = Token(), watched = Token(), other = Token();
        var parts = CloudScript.Snapshot(
            7, tokensPerPart: 1,
            cloud.Script.Leak("leak-a", RuleAction.Block, blocked),
            cloud.Script.Leak("leak-b", RuleAction.Monitor, watched),
            cloud.Script.Leak("leak-c", RuleAction.Block, other));
        Assert.Equal(3, parts.Count);
        cloud.Script.OnHello = _ => parts;

        var node = await cloud.StartNodeAsync();
        var ack = await cloud.Script.NextAckAsync();

        Assert.Equal(new RuleAck { Version = 7, Applied = true }, ack);
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, blocked));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, other));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(node, watched));
        var hello = Assert.Single(cloud.Script.Hellos);
        Assert.Equal(0, hello.RuleVersion);
        Assert.Equal("", hello.KeyId);
        Assert.Equal("block", hello.Mode);
        var status = await node.StatusAsync();
        Assert.Equal(7, status.GetProperty("rules").GetProperty("version").GetInt64());
        Assert.Equal("cloud", status.GetProperty("rules").GetProperty("source").GetString());
        Assert.Equal("connected", status.GetProperty("cloud").GetProperty("state").GetString());
        Assert.True(status.GetProperty("cloud").GetProperty("connected").GetBoolean());
        using var ready = await node.Admin.GetAsync(new Uri("/readyz", UriKind.Relative), Cancel);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Delta_Vpatch_MonitorBecomesBlockAndIsAcked()
    {
        await using var cloud = await CloudFixture.StartAsync();
        var token = Token();
        var node = await cloud.StartNodeWithLeakAsync(token, RuleAction.Monitor);
        Assert.Equal(HttpStatusCode.OK, await SendAsync(node, token));

        var vpatch = new RuleUpdate { Version = 2, FromVersion = 1, Last = true };
        vpatch.ActionChanged.Add(new ActionChange { LeakId = "leak-a", Action = ProtoAction.Block });
        await cloud.Script.PushAsync(vpatch, Cancel);

        Assert.Equal(new RuleAck { Version = 2, Applied = true }, await cloud.Script.NextAckAsync());
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, token));
    }

    [Fact]
    public async Task Delta_OnTheEmptySnapshotOfVersionZero_AppliesAndBlocks()
    {
        // Regression: a cloud with no leak yet sends the empty snapshot of version 0; its first leak comes as the
        // delta 0 → 1, which must apply (version 0 from this key is a real base, not "no rules").
        await using var cloud = await CloudFixture.StartAsync();
        cloud.Script.OnHello = _ => CloudScript.Snapshot(0, tokensPerPart: 10);
        var node = await cloud.StartNodeAsync();
        Assert.Equal(new RuleAck { Version = 0, Applied = true }, await cloud.Script.NextAckAsync());

        var token = Token();
        var first = new RuleUpdate { Version = 1, FromVersion = 0, Last = true };
        first.Upserted.Add(cloud.Script.Leak("leak-a", RuleAction.Block, token));
        await cloud.Script.PushAsync(first, Cancel);

        Assert.Equal(new RuleAck { Version = 1, Applied = true }, await cloud.Script.NextAckAsync());
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, token));
    }

    [Fact]
    public async Task Delta_WrongFromVersion_NackedWithReasonAndOldRulesStay()
    {
        await using var cloud = await CloudFixture.StartAsync();
        var token = Token();
        var node = await cloud.StartNodeWithLeakAsync(token, version: 3);

        var delta = new RuleUpdate { Version = 6, FromVersion = 5, Last = true };
        delta.Removed.Add("leak-a");
        await cloud.Script.PushAsync(delta, Cancel);

        var nack = await cloud.Script.NextAckAsync();
        Assert.Equal(6, nack.Version);
        Assert.False(nack.Applied);
        Assert.Contains("applies to version 5, but the current version is 3", nack.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, token));
        Assert.Equal(3, (await node.StatusAsync()).GetProperty("rules").GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task Snapshot_InvalidDigest_NackedAndOldRulesStay()
    {
        await using var cloud = await CloudFixture.StartAsync();
        var token = Token();
        var node = await cloud.StartNodeWithLeakAsync(token);

        var broken = cloud.Script.Leak("leak-b", RuleAction.Block, Token());
        broken.Tokens[0].Hmac = Google.Protobuf.ByteString.CopyFrom(1, 2, 3);
        foreach (var part in CloudScript.Snapshot(2, 100, broken))
        {
            await cloud.Script.PushAsync(part, Cancel);
        }

        var nack = await cloud.Script.NextAckAsync();
        Assert.Equal(2, nack.Version);
        Assert.False(nack.Applied);
        Assert.Contains("leak-b/t0", nack.Error, StringComparison.Ordinal);
        Assert.Contains("HMAC", nack.Error, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, token));
        Assert.Equal(1, (await node.StatusAsync()).GetProperty("rules").GetProperty("version").GetInt64());
        Assert.Contains(node.Logs, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains("version 2 from the cloud refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Snapshot_PartOutOfOrder_NackedOnce()
    {
        await using var cloud = await CloudFixture.StartAsync();
        var parts = CloudScript.Snapshot(4, 1, cloud.Script.Leak("a", RuleAction.Block, Token()), cloud.Script.Leak("b", RuleAction.Block, Token()), cloud.Script.Leak("c", RuleAction.Block, Token()));
        cloud.Script.OnHello = _ => [parts[0], parts[2], parts[1]];
        await using var node = await cloud.StartNodeAsync();

        var nack = await cloud.Script.NextAckAsync();

        Assert.False(nack.Applied);
        Assert.Contains("part 2 of version 4 arrived where part 1 was expected", nack.Error, StringComparison.Ordinal);
        await Task.Delay(200, Cancel);
        Assert.False(cloud.Script.Acks.Reader.TryRead(out _));
    }

    [Fact]
    public async Task KeyChange_CachedRulesAreVoid()
    {
        await using var cloud = await CloudFixture.StartAsync();
        string first = Token(), second = Token();
        var node = await cloud.StartNodeWithLeakAsync(first);
        var oldKeyId = cloud.Script.KeyId;
        await cloud.StopNodeAsync(node);

        // The cloud's key is replaced; the node comes back with rules made with the old one.
        cloud.Script.SetKey(Matching.Digests.DigestKey.GenerateBytes());
        cloud.Script.OnHello = _ => [];
        node = await cloud.StartNodeAsync();
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, first));
        await Eventually(() => Task.FromResult(cloud.Script.Hellos.Count == 2));
        var hello = cloud.Script.Hellos.Last();
        Assert.Equal(oldKeyId, hello.KeyId);
        Assert.Equal(1, hello.RuleVersion);

        // A delta on the old version no longer applies: there is no rule set made with the new key.
        var delta = new RuleUpdate { Version = 2, FromVersion = 1, Last = true };
        delta.ActionChanged.Add(new ActionChange { LeakId = "leak-a", Action = ProtoAction.Monitor });
        await cloud.Script.PushAsync(delta, Cancel);
        var nack = await cloud.Script.NextAckAsync();
        Assert.False(nack.Applied);
        Assert.Contains("send a snapshot", nack.Error, StringComparison.Ordinal);
        Assert.Equal(cloud.Script.KeyBytes, await File.ReadAllBytesAsync(Path.Combine(cloud.StateDir, "deployment.key"), Cancel));
        Assert.False(File.Exists(Path.Combine(cloud.StateDir, "rules.snapshot")));

        foreach (var part in CloudScript.Snapshot(1, 100, cloud.Script.Leak("leak-b", RuleAction.Block, second)))
        {
            await cloud.Script.PushAsync(part, Cancel);
        }
        Assert.True((await cloud.Script.NextAckAsync()).Applied);
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, second));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(node, first));
    }

    [Fact]
    public async Task RevokedToken_StatusSaysRefusedAndLogSaysWhatToDo()
    {
        await using var cloud = await CloudFixture.StartAsync();
        cloud.Script.Revoked = true;

        var node = await cloud.StartNodeAsync();

        await Eventually(async () => (await node.StatusAsync()).GetProperty("cloud").GetProperty("state").GetString() == "refused");
        var status = await node.StatusAsync();
        Assert.Contains("PermissionDenied", status.GetProperty("cloud").GetProperty("lastError").GetString(), StringComparison.Ordinal);
        // The status changes just before the line is logged: wait for the line rather than race it.
        await Eventually(() => Task.FromResult(node.Logs.Any(l => l.Contains("[4003]", StringComparison.Ordinal))));
        var line = Assert.Single(node.Logs.Where(l => l.Contains("[4003]", StringComparison.Ordinal)).Take(1));
        Assert.StartsWith("Error", line, StringComparison.Ordinal);
        Assert.Contains("refused this node's token", line, StringComparison.Ordinal);
        Assert.Contains("restart the node", line, StringComparison.Ordinal);
        Assert.DoesNotContain(node.Logs, l => l.Contains(cloud.Script.Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnknownToken_StatusSaysRefused()
    {
        await using var cloud = await CloudFixture.StartAsync();

        var node = await cloud.StartNodeAsync(token: "node-token-that-the-cloud-never-issued");

        await Eventually(async () => (await node.StatusAsync()).GetProperty("cloud").GetProperty("state").GetString() == "refused");
        Assert.Contains("Unauthenticated", (await node.StatusAsync()).GetProperty("cloud").GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconnect_BackoffGrows()
    {
        await using var cloud = await CloudFixture.StartAsync();
        cloud.Script.Unavailable = true;

        var node = await cloud.StartNodeAsync(
            new Dictionary<string, string?> { ["Cloud:ReconnectInitialDelay"] = "00:00:00.020", ["Cloud:ReconnectMaxDelay"] = "00:00:00.640" });
        await Task.Delay(TimeSpan.FromSeconds(4), Cancel);

        var attempts = cloud.Script.RuleAttempts.ToArray();
        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        // Without a backoff a loopback reconnect loop makes hundreds of attempts in 4 s. With ceilings of 20, 40, 80,
        // 160, 320, 640, 640… ms and waits drawn below them (mean half), about 15.
        Assert.InRange(attempts.Length, 5, 40);
        Assert.All(gaps, g => Assert.True(g < 640 + 600, $"a wait of {g} ms exceeds the 640 ms ceiling"));
        Assert.True(gaps.Skip(gaps.Length / 2).Average() > gaps.Take(3).Average(), $"waits did not grow: {string.Join(", ", gaps.Select(g => (int)g))}");
        var status = await node.StatusAsync();
        Assert.True(status.GetProperty("cloud").GetProperty("reconnects").GetInt64() >= attempts.Length - 2);
        Assert.True(status.GetProperty("cloud").GetProperty("state").GetString() is "connecting" or "disconnected");
        Assert.Contains("Unavailable", status.GetProperty("cloud").GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failover_FirstReplicaDown_SecondServes()
    {
        await using var cloud = await CloudFixture.StartAsync();
        var token = Token();
        await using var dead = await TestCloud.StartAsync();
        var deadUrl = dead.Url;
        await dead.StopAsync();

        var node = await cloud.StartNodeWithLeakAsync(token, urls: [deadUrl, cloud.Cloud.Url]);

        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(node, token));
        Assert.Equal(cloud.Cloud.Url, (await node.StatusAsync()).GetProperty("cloud").GetProperty("endpoint").GetString());
    }
}
