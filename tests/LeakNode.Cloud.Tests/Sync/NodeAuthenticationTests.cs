using Grpc.Core;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Protocol.V1;

namespace LeakNode.Cloud.Tests.Sync;

/// <summary>Both streams refuse a node without a valid token, with a status and message the node can log.</summary>
public sealed class NodeAuthenticationTests : IAsyncLifetime
{
    private SyncServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await SyncServer.StartAsync(new Dictionary<string, string?>
    {
        ["NodeSync:RevocationCheckInterval"] = "00:00:00.100",
    });

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    public static TheoryData<string, string?, StatusCode, string> Refusals => new()
    {
        { "SyncRules", null, StatusCode.Unauthenticated, "node token unknown" },
        { "SyncRules", "lnn_not-a-token-of-this-cloud", StatusCode.Unauthenticated, "node token unknown" },
        { "SyncRules", "revoked", StatusCode.PermissionDenied, "node token revoked" },
        { "ShipEvents", null, StatusCode.Unauthenticated, "node token unknown" },
        { "ShipEvents", "lnn_not-a-token-of-this-cloud", StatusCode.Unauthenticated, "node token unknown" },
        { "ShipEvents", "revoked", StatusCode.PermissionDenied, "node token revoked" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Call_WithoutValidToken_IsRefusedWithClearStatus(string method, string? token, StatusCode expected, string message)
    {
        if (token == "revoked")
        {
            var (node, revoked) = _server.Registry.Enrol("edge-revoked");
            _server.Registry.Revoke(node.Id);
            token = revoked;
        }

        var error = method == "SyncRules" ? await RulesRefusal(token) : await EventsRefusal(token);

        Assert.Equal(expected, error.StatusCode);
        Assert.StartsWith(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(_server.Registry.Journal);
        if (token is not null)
        {
            Assert.DoesNotContain(_server.Logs, line => line.Contains(token, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Call_WithOtherAuthorizationScheme_IsUnauthenticated()
    {
        var (_, token) = _server.Registry.Enrol("edge-1");
        using var call = _server.Client().SyncRules([new Metadata.Entry("authorization", "Basic " + token)], cancellationToken: TestContext.Current.CancellationToken);
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task SyncRules_RevokedWhileConnected_EndsWithPermissionDeniedWithinTheCheckInterval()
    {
        var (node, token) = _server.Registry.Enrol("edge-1");
        await using var rules = _server.OpenRules(token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.UpdateAsync();

        _server.Registry.Revoke(node.Id);

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
        Assert.Contains("revoked while connected", error.Status.Detail, StringComparison.Ordinal);
        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"disconnected {node.Id}"), "the disconnect is recorded");
        Assert.DoesNotContain(_server.Logs, line => line.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShipEvents_RevokedWhileConnected_EndsWithPermissionDenied()
    {
        var (node, token) = _server.Registry.Enrol("edge-1");
        using var call = _server.OpenEvents(token);
        await call.RequestStream.WriteAsync(new EventBatch { BatchId = 1 }, TestContext.Current.CancellationToken);
        Assert.True(await call.ResponseStream.MoveNext());

        _server.Registry.Revoke(node.Id);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task EndNode_EndsEveryStreamOfTheNodeAtOnce()
    {
        var (node, token) = _server.Registry.Enrol("edge-1");
        var (other, otherToken) = _server.Registry.Enrol("edge-2");
        await using var rules = _server.OpenRules(token);
        await using var otherRules = _server.OpenRules(otherToken);
        await rules.HelloAsync(0, "");
        await otherRules.HelloAsync(0, "");
        await rules.KeyAsync();
        await otherRules.KeyAsync();
        using var events = _server.OpenEvents(token);
        await events.RequestStream.WriteAsync(new EventBatch { BatchId = 1 }, TestContext.Current.CancellationToken);
        Assert.True(await events.ResponseStream.MoveNext());

        Assert.Equal(2, _server.Connections.EndNode(node.Id));

        Assert.Equal(StatusCode.PermissionDenied, (await rules.EndedAsync()).StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, (await Assert.ThrowsAsync<RpcException>(() => events.ResponseStream.MoveNext())).StatusCode);
        Assert.Contains(other.Id, _server.Connections.ConnectedNodeIds);
    }

    private async Task<RpcException> RulesRefusal(string? token)
    {
        await using var rules = _server.OpenRules(token);
        return await rules.EndedAsync();
    }

    private async Task<RpcException> EventsRefusal(string? token)
    {
        using var call = _server.OpenEvents(token);
        return await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
    }
}
