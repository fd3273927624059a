using System.Net;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Matching.Digests;
using LeakNode.Protocol.V1;
using LeakNode.Testing;
using ProtoRuleAction = LeakNode.Protocol.V1.RuleAction;

namespace LeakNode.Cloud.Tests.Sync;

/// <summary>
/// The node protocol through the real cloud: leaks changed with the REST API reach a connected node as deltas,
/// a revocation through the REST API ends its streams, and shipped events come back from the attacks API.
/// </summary>
public sealed class CloudNodeSyncTests : IAsyncLifetime
{
    private CloudHarness _cloud = null!;
    private GrpcChannel _channel = null!;
    private readonly TokenFactory _tokens = new(41);

    public async ValueTask InitializeAsync()
    {
        // An hour: a revocation through the REST API must end the streams at once, not at the next token check.
        _cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["NodeSync:RevocationCheckInterval"] = "01:00:00" });
        _channel = GrpcChannel.ForAddress(_cloud.Cloud.GrpcUrl);
    }

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _cloud.DisposeAsync();
    }

    private async Task<(string Id, string Token)> EnrolAsync(string name)
    {
        var (status, body) = await _cloud.Admin.PostJsonAsync("/api/v1/nodes", new { name });
        Assert.Equal(HttpStatusCode.Created, status);
        return (body.Id(), body.Str("token"));
    }

    private RuleStreamClient OpenRules(string token) =>
        new(new NodeSync.NodeSyncClient(_channel).SyncRules(SyncServer.Bearer(token), cancellationToken: CloudApi.Ct));

    /// <summary>A node that said hello with nothing and acked the snapshot it got; returns it with the key and version.</summary>
    private async Task<(RuleStreamClient Rules, DeploymentKey Key, long Version)> ConnectAsync(string token)
    {
        var rules = OpenRules(token);
        await rules.HelloAsync(0, "");
        var key = await rules.KeyAsync();
        var snapshot = await rules.UpdateAsync();
        var version = snapshot[^1].Version;
        await rules.AckAsync(version);
        return (rules, key, version);
    }

    [Fact]
    public async Task LeakLifecycle_ReachesAConnectedNodeAsDeltas()
    {
        var (_, nodeToken) = await EnrolAsync("edge-1");
        var (rules, key, version) = await ConnectAsync(nodeToken);
        await using var _ = rules;
        var token = "ghp_" + _tokens.Chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 36);

        var leak = await _cloud.Admin.CreateLeakAsync("pasted in a gist", [token]);
        var created = await rules.DeltaAsync();
        Assert.Equal(version, created.FromVersion);
        var rule = Assert.Single(created.Upserted);
        Assert.Equal((leak.Id(), ProtoRuleAction.Monitor), (rule.Id, rule.Action));
        // The node gets the token as a digest made with the key it was sent: its HMAC is the one it computes.
        var digest = Assert.Single(rule.Tokens);
        var expected = new TokenDigester(DigestKey.FromBytes(key.Key.Span)).Digest(digest.Id, token);
        Assert.Equal(expected.Hmac, digest.Hmac.ToByteArray());
        Assert.DoesNotContain(token, rule.ToString(), StringComparison.Ordinal);
        await rules.AckAsync(created.Version);

        Assert.Equal(HttpStatusCode.OK, (await _cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/vpatch", new { comment = "block it" })).Status);
        var patched = await rules.DeltaAsync();
        Assert.Equal(created.Version, patched.FromVersion);
        var change = Assert.Single(patched.ActionChanged);
        Assert.Equal((leak.Id(), ProtoRuleAction.Block), (change.LeakId, change.Action));
        Assert.Empty(patched.Upserted);
        await rules.AckAsync(patched.Version);

        Assert.Equal(HttpStatusCode.OK, (await _cloud.Admin.PostJsonAsync($"/api/v1/leaks/{leak.Id()}/close", new { comment = "rotated" })).Status);
        var closed = await rules.DeltaAsync();
        Assert.Equal(patched.Version, closed.FromVersion);
        Assert.Equal([leak.Id()], closed.Removed);
        // The node token is the node protocol's to check, never tried as an API key (nor logged).
        Assert.DoesNotContain(_cloud.Logs, line => line.Contains("ApiKey was not authenticated", StringComparison.Ordinal) || line.Contains(nodeToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Nack_IsShownInTheNodeListAndTheNextChangeComesAsSnapshot()
    {
        var (nodeId, nodeToken) = await EnrolAsync("edge-1");
        var (rules, _, version) = await ConnectAsync(nodeToken);
        await using var _ = rules;
        await _cloud.Admin.CreateLeakAsync("one", ["npm_" + _tokens.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 36)]);
        var refused = await rules.DeltaAsync();
        Assert.Equal(version, refused.FromVersion);

        await rules.NackAsync(refused.Version, "disk full: cannot persist the rules");

        await SyncServer.EventuallyAsync(async () =>
        {
            var (_, nodes) = await _cloud.Admin.GetJsonAsync("/api/v1/nodes");
            var node = nodes.EnumerateArray().Single(n => n.Id() == nodeId);
            return node.GetProperty("lastError").ValueKind == JsonValueKind.String
                && node.Str("lastError").Contains("disk full", StringComparison.Ordinal)
                && node.GetProperty("lastErrorVersion").GetInt64() == refused.Version
                && node.GetProperty("ruleVersion").GetInt64() == version;
        }, "the node list shows the refusal, and the node still at the version it runs");

        var leak = await _cloud.Admin.CreateLeakAsync("two", ["npm_" + _tokens.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 36)]);
        var parts = await rules.UpdateAsync();
        Assert.All(parts, p => Assert.True(p.Snapshot && p.Version > refused.Version));
        Assert.Contains(leak.Id(), parts.SelectMany(p => p.Upserted).Select(l => l.Id));
    }

    [Fact]
    public async Task NodeList_ShowsTheConnectedNodeAndTheVersionItAcked()
    {
        var (nodeId, nodeToken) = await EnrolAsync("edge-1");
        await _cloud.Admin.CreateLeakAsync("one", ["sk_live_" + _tokens.Chars("abcdefghijklmnopqrstuvwxyz0123456789", 30)]);
        var (rules, _, version) = await ConnectAsync(nodeToken);
        await using var _ = rules;

        await SyncServer.EventuallyAsync(async () =>
        {
            var (_, nodes) = await _cloud.Admin.GetJsonAsync("/api/v1/nodes");
            var node = nodes.EnumerateArray().Single(n => n.Id() == nodeId);
            return node.GetProperty("connected").GetBoolean() && node.GetProperty("ruleVersion").GetInt64() == version;
        }, "the node list shows the node connected at the version it acked");
    }

    [Fact]
    public async Task RevokeThroughTheApi_EndsTheNodesStreamsAtOnceWithPermissionDenied()
    {
        var (nodeId, nodeToken) = await EnrolAsync("edge-1");
        var (rules, _, _) = await ConnectAsync(nodeToken);
        await using var _ = rules;
        using var events = new NodeSync.NodeSyncClient(_channel).ShipEvents(SyncServer.Bearer(nodeToken), cancellationToken: CloudApi.Ct);
        await events.RequestStream.WriteAsync(new EventBatch { BatchId = 1 }, CloudApi.Ct);
        Assert.True(await events.ResponseStream.MoveNext(CloudApi.Ct));

        Assert.Equal(HttpStatusCode.OK, (await _cloud.Admin.PostJsonAsync($"/api/v1/nodes/{nodeId}/revoke", null)).Status);

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.StartsWith("node token revoked", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => events.ResponseStream.MoveNext(CloudApi.Ct))).StatusCode);

        await using var again = OpenRules(nodeToken);
        Assert.Equal(StatusCode.PermissionDenied, (await again.EndedAsync()).StatusCode);
    }

    [Fact]
    public async Task ShippedEvents_AreStoredOnceUnderTheNodeAndListedByTheAttacksApi()
    {
        var (nodeId, nodeToken) = await EnrolAsync("edge-1");
        var leak = await _cloud.Admin.CreateLeakAsync("one", ["xoxb-" + _tokens.Chars("0123456789", 12) + "-" + _tokens.Chars("abcdefghijklmnopqrstuvwxyz", 24)]);
        var tokenId = leak.GetProperty("tokens")[0].Id();
        using var events = new NodeSync.NodeSyncClient(_channel).ShipEvents(SyncServer.Bearer(nodeToken), cancellationToken: CloudApi.Ct);
        var batch = new EventBatch { BatchId = 1, Dropped = 2 };
        for (var i = 0; i < 3; i++)
        {
            batch.Events.Add(new AttackEvent
            {
                Id = Guid.CreateVersion7().ToString(), Type = "vpatch", TimeUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                LeakId = leak.Id(), TokenId = tokenId, TokenFingerprint = "0011223344556677", TokenPreview = "xoxb-…abcd",
                Action = "blocked", Hits = 1, ClientIp = "192.0.2.1", Method = "POST", Host = "api.example.test", Path = "/v1/chat",
                Location = "header:Authorization", StatusCode = 403,
            });
        }

        await events.RequestStream.WriteAsync(batch, CloudApi.Ct);
        Assert.True(await events.ResponseStream.MoveNext(CloudApi.Ct));
        Assert.Equal((3, 0), (events.ResponseStream.Current.Stored, events.ResponseStream.Current.Duplicates));
        await events.RequestStream.WriteAsync(batch, CloudApi.Ct);
        Assert.True(await events.ResponseStream.MoveNext(CloudApi.Ct));
        Assert.Equal((0, 3), (events.ResponseStream.Current.Stored, events.ResponseStream.Current.Duplicates));

        var (status, page) = await _cloud.Admin.GetJsonAsync($"/api/v1/attacks?leakId={leak.Id()}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.All(page.GetProperty("items").EnumerateArray(), a => Assert.Equal(nodeId, a.Str("nodeId")));
    }
}
