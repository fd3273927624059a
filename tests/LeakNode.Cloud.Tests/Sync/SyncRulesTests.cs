using Grpc.Core;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Protocol;
using RuleAction = LeakNode.Matching.Rules.RuleAction;
using TokenDigest = LeakNode.Matching.Digests.TokenDigest;

namespace LeakNode.Cloud.Tests.Sync;

/// <summary>The rule stream: key and snapshot on hello, deltas relative to what the node acked, nacks, coalescing.</summary>
public sealed class SyncRulesTests : IAsyncLifetime
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    private SyncServer _server = null!;
    private TestLeaks _leaks = null!;
    private string _nodeId = null!;
    private string _token = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await SyncServer.StartAsync(new Dictionary<string, string?> { ["NodeSync:SnapshotTokensPerPart"] = "3" });
        _leaks = new TestLeaks(_server.Keyring.Key);
        (var node, _token) = _server.Registry.Enrol("edge-1");
        _nodeId = node.Id;
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Hello_NewNode_GetsKeyThenSnapshot()
    {
        _server.Feed.Put(_leaks.Leak("L1", RuleAction.Block), _leaks.Leak("L2"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "", mode: "monitor", softwareVersion: "1.2.3");

        var key = await rules.KeyAsync();
        Assert.Equal(_server.Keyring.KeyBytes.ToArray(), key.Key.ToByteArray());
        Assert.Equal(_server.Keyring.KeyId, key.KeyId);
        Assert.Equal(TokenDigest.Scheme, key.DigestScheme);

        var part = Assert.Single(await rules.UpdateAsync());
        Assert.True(part.Snapshot);
        Assert.Equal(1, part.Version);
        Assert.Equal(new[] { ("L1", Protocol.V1.RuleAction.Block), ("L2", Protocol.V1.RuleAction.Monitor) }, part.Upserted.Select(l => (l.Id, l.Action)));
        var expected = (await _server.Feed.SnapshotAsync(TestContext.Current.CancellationToken)).Leaks[0].Tokens[0];
        Assert.Equal(expected, RuleMapping.FromWire(part.Upserted[0].Tokens[0]), TokenDigestComparer.Instance);
        Assert.Equal($"connected {_nodeId} monitor 1.2.3 0", _server.Registry.Journal[0]);
    }

    [Fact]
    public async Task Hello_EmptyCloud_GetsEmptySnapshotAtVersionZero()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();

        var part = Assert.Single(await rules.UpdateAsync());
        Assert.True(part.Snapshot && part.Last);
        Assert.Equal(0, part.Version);
        Assert.Empty(part.Upserted);
    }

    [Fact]
    public async Task Hello_LargeRuleSet_SnapshotComesInPartsOfAtMostThePartSize()
    {
        var leaks = Enumerable.Range(0, 10).Select(i => _leaks.Leak($"L{i:00}", tokens: 1 + (i % 3))).ToArray();
        _server.Feed.Put(leaks);
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();

        var parts = await rules.UpdateAsync();

        Assert.True(parts.Count > 1);
        Assert.Equal(Enumerable.Range(0, parts.Count), parts.Select(p => p.Part));
        Assert.All(parts, p => Assert.True(p.Snapshot && p.Version == 1));
        Assert.All(parts, p => Assert.InRange(p.Upserted.Sum(l => l.Tokens.Count), 1, 3));
        Assert.Equal(leaks.Select(l => l.Id), parts.SelectMany(p => p.Upserted).Select(l => l.Id));
        Assert.Equal(Enumerable.Repeat(false, parts.Count - 1).Append(true), parts.Select(p => p.Last));
    }

    [Fact]
    public async Task Hello_NodeAtCurrentVersion_NothingUntilAChangeThenDeltaFromIt()
    {
        var version = _server.Feed.Put(_leaks.Leak("L1"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(version, _server.Keyring.KeyId);
        await rules.KeyAsync();
        await rules.NothingForAsync(Quiet);

        var next = _server.Feed.SetAction("L1", RuleAction.Block);

        var delta = await rules.DeltaAsync();
        Assert.Equal((version, next), (delta.FromVersion, delta.Version));
        Assert.Equal("L1", Assert.Single(delta.ActionChanged).LeakId);
        Assert.Equal(Protocol.V1.RuleAction.Block, delta.ActionChanged[0].Action);
        Assert.Empty(delta.Upserted);
    }

    [Fact]
    public async Task Hello_NodeBehindWithSameKey_GetsOneDeltaToTheNewest()
    {
        var known = _server.Feed.Put(_leaks.Leak("L1"), _leaks.Leak("L2"));
        _server.Feed.Put(_leaks.Leak("L3"));
        var newest = _server.Feed.Remove("L1");
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(known, _server.Keyring.KeyId);
        await rules.KeyAsync();

        var delta = await rules.DeltaAsync();

        Assert.Equal((known, newest), (delta.FromVersion, delta.Version));
        Assert.Equal(new[] { "L3" }, delta.Upserted.Select(l => l.Id));
        Assert.Equal(new[] { "L1" }, delta.Removed);
    }

    [Fact]
    public async Task Hello_OtherKeyId_GetsSnapshotEvenAtTheCurrentVersion()
    {
        var version = _server.Feed.Put(_leaks.Leak("L1"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(version, "0123456789abcdef");
        await rules.KeyAsync();

        var part = Assert.Single(await rules.UpdateAsync());
        Assert.True(part.Snapshot);
        Assert.Equal(version, part.Version);
    }

    [Fact]
    public async Task Hello_VersionTheFeedNoLongerKnows_GetsSnapshot()
    {
        var old = _server.Feed.Put(_leaks.Leak("L1"));
        var newest = _server.Feed.Put(_leaks.Leak("L2"));
        _server.Feed.Forget();
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(old, _server.Keyring.KeyId);
        await rules.KeyAsync();

        var part = Assert.Single(await rules.UpdateAsync());
        Assert.True(part.Snapshot);
        Assert.Equal(newest, part.Version);
    }

    [Fact]
    public async Task Ack_IsRecordedAndTheNextChangeIsRelativeToTheAckedVersion()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.UpdateAsync();
        await rules.AckAsync(0);
        var v1 = _server.Feed.Put(_leaks.Leak("L1"));
        var first = await rules.DeltaAsync();
        Assert.Equal((0, v1), (first.FromVersion, first.Version));

        await rules.AckAsync(v1);
        var v2 = _server.Feed.Put(_leaks.Leak("L2"));

        var second = await rules.DeltaAsync();
        Assert.Equal((v1, v2), (second.FromVersion, second.Version));
        Assert.Equal(new[] { "L2" }, second.Upserted.Select(l => l.Id));
        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"applied {_nodeId} {v1}"), "the ack is recorded");
    }

    [Fact]
    public async Task ChangesWhileAnUpdateIsUnanswered_ComeAsOneDeltaFromTheAckedVersionToTheNewest()
    {
        var v1 = _server.Feed.Put(_leaks.Leak("L1"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(v1, _server.Keyring.KeyId);
        await rules.KeyAsync();
        var v2 = _server.Feed.Put(_leaks.Leak("L2"));
        var first = await rules.DeltaAsync();
        Assert.Equal(v2, first.Version);

        _server.Feed.Put(_leaks.Leak("L3"));
        _server.Feed.SetAction("L1", RuleAction.Block);
        var v5 = _server.Feed.Remove("L3");
        await rules.NothingForAsync(Quiet);
        await rules.AckAsync(v2);

        var coalesced = await rules.DeltaAsync();
        Assert.Equal((v2, v5), (coalesced.FromVersion, coalesced.Version));
        Assert.Empty(coalesced.Upserted);
        Assert.Empty(coalesced.Removed);
        Assert.Equal("L1", Assert.Single(coalesced.ActionChanged).LeakId);
        await rules.NothingForAsync(Quiet);
    }

    [Fact]
    public async Task Nack_IsRecordedNothingIsResentAndTheNextVersionComesAsSnapshot()
    {
        var v1 = _server.Feed.Put(_leaks.Leak("L1"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(v1, _server.Keyring.KeyId);
        await rules.KeyAsync();
        var v2 = _server.Feed.Put(_leaks.Leak("L2"));
        Assert.Equal(v2, (await rules.DeltaAsync()).Version);

        await rules.NackAsync(v2, "token 't9' carries 3 window hashes; a token of length 40 needs 6");

        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Any(e => e.StartsWith($"refused {_nodeId} {v2} token 't9'", StringComparison.Ordinal)), "the refusal is recorded");
        await SyncServer.EventuallyAsync(
            () => _server.Logs.Any(line => line.StartsWith("Warning", StringComparison.Ordinal) && line.Contains($"refused rule version {v2}", StringComparison.Ordinal)),
            "the refusal is logged as a warning");
        await rules.NothingForAsync(Quiet);

        var v3 = _server.Feed.Put(_leaks.Leak("L3"));
        var parts = await rules.UpdateAsync();
        Assert.All(parts, p => Assert.True(p.Snapshot && p.Version == v3));
        Assert.Equal(new[] { "L1", "L2", "L3" }, parts.SelectMany(p => p.Upserted).Select(l => l.Id));

        await rules.AckAsync(v3);
        var v4 = _server.Feed.Remove("L2");
        var delta = await rules.DeltaAsync();
        Assert.Equal((v3, v4), (delta.FromVersion, delta.Version));
    }

    [Fact]
    public async Task AckOfAVersionNotInFlight_IsIgnored()
    {
        var v1 = _server.Feed.Put(_leaks.Leak("L1"));
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(v1, _server.Keyring.KeyId);
        await rules.KeyAsync();

        await rules.AckAsync(42);
        var v2 = _server.Feed.Put(_leaks.Leak("L2"));

        var delta = await rules.DeltaAsync();
        Assert.Equal((v1, v2), (delta.FromVersion, delta.Version));
        Assert.DoesNotContain(_server.Registry.Journal, e => e.StartsWith("applied", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FirstMessageNotHello_EndsWithInvalidArgument()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.AckAsync(1);

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("starts with a NodeHello", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(_server.Registry.Journal);
    }

    [Theory]
    [InlineData(-1, "block", "rule_version")]
    [InlineData(0, "", "mode")]
    [InlineData(0, "enforce", "mode")]
    public async Task BadHello_EndsWithInvalidArgument(long version, string mode, string field)
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(version, "", mode);

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains(field, error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondHello_EndsWithInvalidArgumentAndRecordsTheDisconnect()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.HelloAsync(0, "");

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"disconnected {_nodeId}"), "the disconnect is recorded");
    }

    [Fact]
    public async Task NodeGoesAway_DisconnectIsRecorded()
    {
        var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.UpdateAsync();
        await rules.AckAsync(0);
        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"applied {_nodeId} 0"), "the ack is recorded");

        await rules.DisposeAsync();

        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"disconnected {_nodeId}"), "the disconnect is recorded");
        Assert.Equal(new[] { $"connected {_nodeId} block test-1.0 0", $"applied {_nodeId} 0", $"disconnected {_nodeId}" }, _server.Registry.Journal);
        Assert.Equal(1, _server.Registry.Seen(_nodeId)); // the hello; the ack came within NodeConnection.SeenPrecision
        await SyncServer.EventuallyAsync(() => !_server.Connections.ConnectedNodeIds.Contains(_nodeId), "the connection is forgotten");
    }

    [Fact]
    public async Task NodeClosesItsSide_CallEndsWithOk()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.CompleteAsync();

        Assert.Equal(StatusCode.OK, (await rules.EndedAsync()).StatusCode);
    }

    [Fact]
    public async Task ServerStopping_EndsOpenStreamsAtOnceWithUnavailable()
    {
        await using var server = await SyncServer.StartAsync();
        var (node, token) = server.Registry.Enrol("edge-1");
        await using var rules = server.OpenRules(token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        using var events = server.Client().ShipEvents(SyncServer.Bearer(token), cancellationToken: TestContext.Current.CancellationToken);
        await events.RequestStream.WriteAsync(new Protocol.V1.EventBatch { BatchId = 1 }, TestContext.Current.CancellationToken);
        Assert.True(await events.ResponseStream.MoveNext(TestContext.Current.CancellationToken));
        // As a node's shipper does, a read is pending: the client only lets a stream go once it reads its end.
        var eventsEnded = Assert.ThrowsAsync<RpcException>(() => events.ResponseStream.MoveNext(TestContext.Current.CancellationToken));

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.StopAsync();

        // Well under the host's 30 s shutdown timeout, which open streams would otherwise hold it for.
        Assert.InRange(stopping.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        var error = await rules.EndedAsync();
        // Usually UNAVAILABLE with the reason; under load Kestrel's shutdown sometimes resets the connection before
        // the trailers leave, which the client reports as INTERNAL. Either way the stream ended at once (above).
        Assert.Contains(error.StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        if (error.StatusCode == StatusCode.Unavailable)
        {
            Assert.Contains("shutting down", error.Status.Detail, StringComparison.Ordinal);
        }
        Assert.Contains((await eventsEnded).StatusCode, new[] { StatusCode.Unavailable, StatusCode.Internal });
        Assert.Contains($"disconnected {node.Id}", server.Registry.Journal);
    }

    [Fact]
    public async Task NoAnswerWithinAckTimeout_EndsWithDeadlineExceeded()
    {
        await using var server = await SyncServer.StartAsync(new Dictionary<string, string?> { ["NodeSync:AckTimeout"] = "00:00:00.200" });
        var (_, token) = server.Registry.Enrol("edge-slow");
        await using var rules = server.OpenRules(token);
        await rules.HelloAsync(0, "");
        await rules.KeyAsync();
        await rules.UpdateAsync();

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("rule version 0", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FeedFails_EndsWithUnavailableAndRecordsTheDisconnect()
    {
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(0, _server.Keyring.KeyId);
        await rules.KeyAsync();
        _server.Feed.Failure = new InvalidOperationException("database is locked (test)");

        _server.Feed.Put(_leaks.Leak("L1"));

        var error = await rules.EndedAsync();
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.DoesNotContain("database is locked", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(_server.Logs, line => line.StartsWith("Error", StringComparison.Ordinal) && line.Contains("database is locked", StringComparison.Ordinal));
        await SyncServer.EventuallyAsync(() => _server.Registry.Journal.Contains($"disconnected {_nodeId}"), "the disconnect is recorded");
    }

    [Fact]
    public async Task ManyNodesAskingForASnapshotAtOnce_ShareOneRead()
    {
        _server.Feed.Put(_leaks.Leak("L1", tokens: 5));
        var nodes = new List<RuleStreamClient>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var (_, token) = _server.Registry.Enrol($"edge-{i}");
                var rules = _server.OpenRules(token);
                nodes.Add(rules);
                await rules.HelloAsync(0, "");
            }
            foreach (var rules in nodes)
            {
                await rules.KeyAsync();
                Assert.Equal(1, Assert.Single(await rules.UpdateAsync()).Version);
            }
        }
        finally
        {
            foreach (var rules in nodes)
            {
                await rules.DisposeAsync();
            }
        }

        // Within SharedFeedReads.SnapshotReuse of each other: one read (two if the machine stalled past it).
        Assert.InRange(_server.Feed.SnapshotReads, 1, 2);
    }

    [Fact]
    public async Task NackAfterASharedSnapshot_NextSnapshotIsNewerThanTheRefusedVersion()
    {
        var v1 = _server.Feed.Put(_leaks.Leak("L1"));
        await using var other = _server.OpenRules(_server.Registry.Enrol("edge-2").Token);
        await other.HelloAsync(0, "");
        await other.KeyAsync();
        Assert.Equal(v1, Assert.Single(await other.UpdateAsync()).Version);
        await using var rules = _server.OpenRules(_token);
        await rules.HelloAsync(v1, _server.Keyring.KeyId);
        await rules.KeyAsync();
        var v2 = _server.Feed.Put(_leaks.Leak("L2"));
        Assert.Equal(v2, (await rules.DeltaAsync()).Version);

        await rules.NackAsync(v2, "refused for the test");
        var v3 = _server.Feed.Put(_leaks.Leak("L3"));

        var parts = await rules.UpdateAsync();
        Assert.All(parts, p => Assert.True(p.Snapshot && p.Version == v3));
    }

    [Fact]
    public async Task ManyNodes_EachGetsEveryChange()
    {
        var nodes = new List<RuleStreamClient>();
        for (var i = 0; i < 20; i++)
        {
            var (_, token) = _server.Registry.Enrol($"edge-{i}");
            var rules = _server.OpenRules(token);
            nodes.Add(rules);
            await rules.HelloAsync(0, _server.Keyring.KeyId);
            await rules.KeyAsync();
        }
        try
        {
            var version = _server.Feed.Put(_leaks.Leak("L1", RuleAction.Block));
            foreach (var rules in nodes)
            {
                var delta = await rules.DeltaAsync();
                Assert.Equal((0, version), (delta.FromVersion, delta.Version));
            }
        }
        finally
        {
            foreach (var rules in nodes)
            {
                await rules.DisposeAsync();
            }
        }
    }

    /// <summary>Digests compare by value: the record's arrays compare by reference.</summary>
    private sealed class TokenDigestComparer : IEqualityComparer<TokenDigest>
    {
        public static TokenDigestComparer Instance { get; } = new();

        public bool Equals(TokenDigest? x, TokenDigest? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Length == y.Length && x.SpanStart == y.SpanStart
            && x.Windows.SequenceEqual(y.Windows) && x.Hmac.SequenceEqual(y.Hmac) && x.Preview == y.Preview;

        public int GetHashCode(TokenDigest obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }
}
