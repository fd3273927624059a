using Grpc.Core;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;

namespace LeakNode.Cloud.Tests.Sync;

/// <summary>Event batches: stored once under the authenticated node, resends counted, malformed events skipped.</summary>
public sealed class ShipEventsTests : IAsyncLifetime
{
    private SyncServer _server = null!;
    private string _nodeId = null!;
    private string _token = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SyncServer.StartAsync();
        (var node, _token) = _server.Registry.Enrol("edge-1");
        _nodeId = node.Id;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static AttackEvent Event(string? id = null) => new()
    {
        Id = id ?? Guid.CreateVersion7().ToString(),
        Type = "vpatch",
        TimeUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        LeakId = "L1",
        TokenId = "t1",
        TokenFingerprint = "0123456789abcdef",
        TokenPreview = "ghp_…9f3a",
        Action = "blocked",
        Hits = 1,
        ClientIp = "192.0.2.7",
        Method = "GET",
        Host = "api.example.test",
        Path = "/v1/things?api_key=ghp_…9f3a",
        Location = "query:api_key",
        StatusCode = 403,
    };

    private static async Task<EventBatchAck> ShipAsync(AsyncDuplexStreamingCall<EventBatch, EventBatchAck> call, EventBatch batch)
    {
        await call.RequestStream.WriteAsync(batch, TestContext.Current.CancellationToken);
        Assert.True(await call.ResponseStream.MoveNext());
        return call.ResponseStream.Current;
    }

    [Fact]
    public async Task Batch_IsStoredUnderTheAuthenticatedNodeAndAcked()
    {
        using var call = _server.OpenEvents(_token);
        var batch = new EventBatch { BatchId = 7 };
        batch.Events.Add(Enumerable.Range(0, 500).Select(_ => Event()));

        var ack = await ShipAsync(call, batch);

        Assert.Equal((7ul, 500, 0), (ack.BatchId, ack.Stored, ack.Duplicates));
        Assert.Equal(500, _server.Attacks.Events.Count);
        Assert.All(_server.Attacks.Events, e => Assert.Equal(_nodeId, e.NodeId));
        var stored = _server.Attacks.Events.Single(e => e.Attack.Id == batch.Events[0].Id).Attack;
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(batch.Events[0].TimeUnixMs), stored.Time);
        Assert.Equal(("L1", "t1", "blocked", "query:api_key", 403, "ghp_…9f3a"), (stored.LeakId, stored.TokenId, stored.Action, stored.Location, stored.StatusCode, stored.TokenPreview));
        Assert.True(_server.Registry.Seen(_nodeId) >= 1);
    }

    [Fact]
    public async Task Resend_IsCountedAsDuplicatesOnAnyStream()
    {
        var batch = new EventBatch { BatchId = 1 };
        batch.Events.Add(Enumerable.Range(0, 10).Select(_ => Event()));
        using (var first = _server.OpenEvents(_token))
        {
            Assert.Equal(10, (await ShipAsync(first, batch)).Stored);
        }

        // The node lost the ack (a new connection, say) and sends the batch again, with two new events.
        using var second = _server.OpenEvents(_token);
        batch.Events.Add(Event());
        batch.Events.Add(Event());
        var ack = await ShipAsync(second, batch);

        Assert.Equal((2, 10), (ack.Stored, ack.Duplicates));
        Assert.Equal(12, _server.Attacks.Events.Count);
    }

    [Fact]
    public async Task SameEventTwiceInOneBatch_IsStoredOnce()
    {
        using var call = _server.OpenEvents(_token);
        var once = Event();
        var batch = new EventBatch { BatchId = 1 };
        batch.Events.Add(new[] { once, once.Clone() });

        var ack = await ShipAsync(call, batch);

        Assert.Equal((1, 1), (ack.Stored, ack.Duplicates));
    }

    public static TheoryData<string, Action<AttackEvent>> Malformed => new()
    {
        { "no id", e => e.Id = "" },
        { "id too long", e => e.Id = new string('a', EventBatchLimits.MaxEventIdLength + 1) },
        { "other type", e => e.Type = "sqli" },
        { "other action", e => e.Action = "allowed" },
        { "no time", e => e.TimeUnixMs = 0 },
        { "time out of range", e => e.TimeUnixMs = long.MaxValue },
        { "no hits", e => e.Hits = 0 },
        { "no leak id", e => e.LeakId = "" },
        { "no token id", e => e.TokenId = "" },
        { "leak id too long", e => e.LeakId = new string('l', EventBatchLimits.MaxIdLength + 1) },
        { "preview too long", e => e.TokenPreview = new string('p', EventBatchLimits.MaxTokenTextLength + 1) },
        { "status not HTTP", e => e.StatusCode = 42 },
        { "method too long", e => e.Method = new string('M', EventBatchLimits.MaxMethodLength + 1) },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task MalformedEvent_IsSkippedAndTheRestOfTheBatchStored(string why, Action<AttackEvent> breakIt)
    {
        using var call = _server.OpenEvents(_token);
        var bad = Event();
        breakIt(bad);
        var batch = new EventBatch { BatchId = 3 };
        batch.Events.Add(new[] { Event(), bad, Event() });

        var ack = await ShipAsync(call, batch);

        Assert.True((2, 0) == (ack.Stored, ack.Duplicates), why);
        Assert.Contains(_server.Logs, line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains("Skipped 1 malformed event(s) of batch 3", StringComparison.Ordinal));
        // The stream goes on.
        Assert.Equal(1, (await ShipAsync(call, new EventBatch { BatchId = 4, Events = { Event() } })).Stored);
    }

    [Fact]
    public async Task LongHostAndPath_AreCutNotRefused()
    {
        using var call = _server.OpenEvents(_token);
        var tooLong = Event();
        tooLong.Path = "/" + new string('x', 10_000);
        tooLong.Host = new string('h', 1_000);

        var ack = await ShipAsync(call, new EventBatch { BatchId = 1, Events = { tooLong } });

        Assert.Equal(1, ack.Stored);
        var stored = Assert.Single(_server.Attacks.Events).Attack;
        Assert.Equal(EventBatchLimits.MaxPathLength, stored.Path.Length);
        Assert.Equal(EventBatchLimits.MaxHostLength, stored.Host.Length);
        Assert.EndsWith("…", stored.Path, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BatchOverTheLimit_EndsWithInvalidArgumentNamingTheLimit()
    {
        using var call = _server.OpenEvents(_token);
        var batch = new EventBatch { BatchId = 9 };
        batch.Events.Add(Enumerable.Range(0, EventBatchLimits.MaxEventsPerBatch + 1).Select(_ => Event()));
        await call.RequestStream.WriteAsync(batch, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains($"at most {EventBatchLimits.MaxEventsPerBatch}", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(_server.Attacks.Events);
    }

    [Fact]
    public async Task Dropped_IsRecordedEvenInABatchWithoutEvents()
    {
        using var call = _server.OpenEvents(_token);

        var ack = await ShipAsync(call, new EventBatch { BatchId = 2, Dropped = 17 });
        await ShipAsync(call, new EventBatch { BatchId = 3, Dropped = 3, Events = { Event() } });

        Assert.Equal((2ul, 0, 0), (ack.BatchId, ack.Stored, ack.Duplicates));
        Assert.Equal(20ul, _server.Attacks.Dropped(_nodeId));
    }

    [Fact]
    public async Task StoreFails_EndsWithUnavailableAndTheCauseOnlyInTheCloudsLog()
    {
        _server.Attacks.Failure = new IOException("disk I/O error in the test store");
        using var call = _server.OpenEvents(_token);
        await call.RequestStream.WriteAsync(new EventBatch { BatchId = 5, Events = { Event() } }, TestContext.Current.CancellationToken);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("send it again", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("disk I/O", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_server.Logs, line => line.StartsWith("Error", StringComparison.Ordinal) && line.Contains("disk I/O error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShipEvents_DoesNotTouchTheRuleStreamsConnectionState()
    {
        using (var call = _server.OpenEvents(_token))
        {
            await ShipAsync(call, new EventBatch { BatchId = 1, Events = { Event() } });
            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext());
        }

        Assert.Empty(_server.Registry.Journal);
    }
}
