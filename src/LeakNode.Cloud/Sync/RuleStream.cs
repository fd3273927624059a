using Google.Protobuf;
using Grpc.Core;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// One node's <c>SyncRules</c> call after its hello: sends the deployment key, brings the node to the newest rule
/// version, then follows every change, while a reader takes the node's acks and nacks.
/// </summary>
/// <remarks>
/// <para>
/// One update is in flight at a time. The next is built only once the node has answered the last, relative to the
/// version the node acked, which is the version it runs (the xDS rule). Pipelining (a delta from the version sent
/// but not yet acked) would save one round trip when changes come faster than acks, but a nack would then leave the
/// node with a delta for a version it never took, which it must refuse too. Waiting also coalesces: the versions
/// made while an update is in flight go out as one delta to the newest.
/// </para>
/// <para>
/// A nack leaves the node on its last good version, which the cloud may no longer be able to reach it from by delta
/// (the refused version could be the cloud's fault). So nothing is sent until a version newer than the refused one
/// exists, and that goes as a snapshot: the cloud never sends a refused version again, and the node's next build
/// starts from nothing it had.
/// </para>
/// </remarks>
internal sealed class RuleStream
{
    private readonly NodeIdentity _node;
    private readonly IRuleFeed _feed;
    private readonly SharedFeedReads _reads;
    private readonly AppliedBatcher _applied;
    private readonly IDeploymentKeyring _keyring;
    private readonly INodeRegistry _registry;
    private readonly Func<Task> _seen;
    private readonly NodeSyncOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();

    // Guarded by _lock: what the node runs, whether only a snapshot can bring it forward, and the update it has
    // not answered yet.
    private long _inForce;
    private bool _needsSnapshot;
    private long? _inFlight;
    private long _refused = -1;
    private TaskCompletionSource? _answered;

    /// <param name="seen">Records that the node sent a message (as often as its last-seen time needs).</param>
    public RuleStream(NodeIdentity node, NodeHello hello, IRuleFeed feed, SharedFeedReads reads, IDeploymentKeyring keyring, INodeRegistry registry, AppliedBatcher applied, Func<Task> seen, NodeSyncOptions options, ILogger logger)
    {
        _node = node;
        _feed = feed;
        _reads = reads;
        _applied = applied;
        _keyring = keyring;
        _registry = registry;
        _seen = seen;
        _options = options;
        _logger = logger;
        _inForce = hello.RuleVersion;
        // Digests made with another key find nothing: a node with other keys' rules (or none) starts from a snapshot.
        _needsSnapshot = hello.KeyId != keyring.KeyId;
    }

    /// <summary>Runs until the node closes its side, the call ends, or a protocol error (thrown as an <see cref="RpcException"/>).</summary>
    public async Task RunAsync(IAsyncStreamReader<RulesRequest> requests, IServerStreamWriter<RulesResponse> responses, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = ReadAnswersAsync(requests, stop.Token);
        var sending = SendUpdatesAsync(responses, stop.Token);
        var first = await Task.WhenAny(reading, sending);
        var other = ReferenceEquals(first, reading) ? sending : reading;
        await stop.CancelAsync();
        try
        {
            await other;
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // The first to finish says how the call ends; the other only stopped because we told it to.
        }
        await first;
    }

    private async Task ReadAnswersAsync(IAsyncStreamReader<RulesRequest> requests, CancellationToken cancellationToken)
    {
        while (await requests.MoveNext(cancellationToken))
        {
            await _seen();
            var request = requests.Current;
            switch (request.KindCase)
            {
                case RulesRequest.KindOneofCase.Ack:
                    await AnsweredAsync(request.Ack, cancellationToken);
                    break;
                case RulesRequest.KindOneofCase.Hello:
                    throw NodeSyncErrors.SecondHello();
                default:
                    throw NodeSyncErrors.EmptyRequest();
            }
        }
    }

    private async Task AnsweredAsync(RuleAck ack, CancellationToken cancellationToken)
    {
        long inForce;
        TaskCompletionSource? answered;
        lock (_lock)
        {
            if (ack.Version != _inFlight)
            {
                // An answer to nothing we are waiting for (a repeat, or a version of an earlier stream): it changes
                // nothing the node runs that the next hello would not tell us.
                NodeSyncLog.UnexpectedAck(_logger, _node.Id, ack.Version, _inFlight ?? 0);
                return;
            }
            inForce = _inForce;
            if (ack.Applied)
            {
                _inForce = ack.Version;
                _needsSnapshot = false;
            }
            else
            {
                _needsSnapshot = true;
                _refused = ack.Version;
            }
            _inFlight = null;
            answered = _answered;
        }

        // The next update may go before the registry has recorded this answer: on SQLite every node's record is a
        // write through the database's one writer, and a change must not wait for a queue of 200 nodes' acks of the
        // last one before it leaves. The records of one node stay in order (this reader awaits each).
        answered?.TrySetResult();
        if (ack.Applied)
        {
            await _applied.AppliedAsync(_node.Id, ack.Version, cancellationToken);
            NodeSyncLog.VersionApplied(_logger, _node.Id, ack.Version);
        }
        else
        {
            var error = string.IsNullOrWhiteSpace(ack.Error) ? "(the node gave no reason)" : Shorten(ack.Error);
            await _registry.RefusedAsync(_node.Id, ack.Version, error, cancellationToken);
            NodeSyncLog.VersionRefused(_logger, _node.Name, _node.Id, ack.Version, error, inForce);
        }
    }

    private async Task SendUpdatesAsync(IServerStreamWriter<RulesResponse> responses, CancellationToken cancellationToken)
    {
        var key = new DeploymentKey
        {
            Key = ByteString.CopyFrom(_keyring.KeyBytes.Span),
            KeyId = _keyring.KeyId,
            DigestScheme = Matching.Digests.TokenDigest.Scheme,
        };
        await responses.WriteAsync(new RulesResponse { Key = key }, cancellationToken);

        // The version the node has or was last offered; the next update waits for a newer one.
        long offered;
        lock (_lock)
        {
            offered = _inForce;
        }
        var catchUp = true;
        while (true)
        {
            if (!catchUp)
            {
                await _feed.WaitForVersionAsync(offered, cancellationToken);
            }
            catchUp = false;

            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var version = await SendNextAsync(responses, answered, cancellationToken);
            if (version is null)
            {
                lock (_lock)
                {
                    offered = _inForce;
                }
                continue;
            }
            offered = version.Value;
            try
            {
                await answered.Task.WaitAsync(_options.AckTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                NodeSyncLog.AckTimedOut(_logger, _node.Name, _node.Id, offered, _options.AckTimeout);
                throw NodeSyncErrors.AckTimeout(offered, _options.AckTimeout);
            }
        }
    }

    /// <summary>Sends what brings the node from the version it runs to the newest; returns that version, or null when it is there already.</summary>
    private async Task<long?> SendNextAsync(IServerStreamWriter<RulesResponse> responses, TaskCompletionSource answered, CancellationToken cancellationToken)
    {
        long from;
        bool snapshot;
        long refused;
        lock (_lock)
        {
            from = _inForce;
            snapshot = _needsSnapshot;
            refused = _refused;
        }

        if (!snapshot)
        {
            var delta = await _reads.DeltaAsync(from, cancellationToken);
            if (delta is not null && delta.FromVersion == from && delta.ToVersion >= from)
            {
                if (delta.ToVersion == from)
                {
                    return null;
                }
                InFlight(delta.ToVersion, answered);
                await responses.WriteAsync(new RulesResponse { Update = RuleMapping.ToWire(delta) }, cancellationToken);
                NodeSyncLog.DeltaSent(_logger, _node.Id, from, delta.ToVersion, delta.Upserted.Count, delta.Removed.Count, delta.ActionChanged.Count);
                return delta.ToVersion;
            }
            // The feed cannot say how to get from the node's version to the newest (the version is unknown to it,
            // newer than its newest, or older than its change log): only a snapshot can.
        }

        var rules = await _reads.SnapshotAsync(cancellationToken);
        if (rules.Version <= refused)
        {
            // A shared snapshot read before the version the node refused was superseded: never offer that version
            // (or an older one) again; read the newest for this node alone.
            rules = await _feed.SnapshotAsync(cancellationToken);
        }
        InFlight(rules.Version, answered);
        var parts = 0;
        foreach (var part in RuleMapping.ToSnapshotParts(rules, _options.SnapshotTokensPerPart))
        {
            await responses.WriteAsync(new RulesResponse { Update = part }, cancellationToken);
            parts++;
        }
        NodeSyncLog.SnapshotSent(_logger, _node.Id, rules.Version, rules.Leaks.Count, rules.TokenCount, parts);
        return rules.Version;
    }

    private void InFlight(long version, TaskCompletionSource answered)
    {
        lock (_lock)
        {
            _inFlight = version;
            _answered = answered;
        }
    }

    // A node's reason is shown to users and kept in the registry; a runaway message must not flood either.
    private static string Shorten(string error) => error.Length <= 1_000 ? error : string.Concat(error.AsSpan(0, 999), "…");
}
