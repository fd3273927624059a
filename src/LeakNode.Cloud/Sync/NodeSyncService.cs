using Grpc.Core;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// The cloud's side of the node protocol (protos/leaknode/v1/node_sync.proto): rule versions to nodes on
/// <c>SyncRules</c>, attack events from them on <c>ShipEvents</c>. Both streams authenticate with the node token;
/// the node is whoever the registry says owns it, never what the node says about itself.
/// </summary>
internal sealed class NodeSyncService : NodeSync.NodeSyncBase
{
    private readonly IRuleFeed _feed;
    private readonly SharedFeedReads _reads;
    private readonly AppliedBatcher _applied;
    private readonly IDeploymentKeyring _keyring;
    private readonly INodeRegistry _registry;
    private readonly IAttackStore _attacks;
    private readonly NodeConnections _connections;
    private readonly NodeSyncOptions _options;
    private readonly ILogger _logger;

    public NodeSyncService(
        IRuleFeed feed, SharedFeedReads reads, AppliedBatcher applied, IDeploymentKeyring keyring, INodeRegistry registry, IAttackStore attacks, NodeConnections connections,
        IOptions<NodeSyncOptions> options, ILogger<NodeSyncService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _feed = feed;
        _reads = reads;
        _applied = applied;
        _keyring = keyring;
        _registry = registry;
        _attacks = attacks;
        _connections = connections;
        _options = options.Value;
        _logger = logger;
    }

    public override Task SyncRules(IAsyncStreamReader<RulesRequest> requestStream, IServerStreamWriter<RulesResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        return ServeAsync(context, "rules could not be served", connection => SyncRulesAsync(connection, requestStream, responseStream));
    }

    public override Task ShipEvents(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<EventBatchAck> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        return ServeAsync(context, "events could not be stored; the batch in flight was not acked: send it again", connection => ShipEventsAsync(connection, requestStream, responseStream));
    }

    /// <summary>
    /// Authenticates the call, keeps it among the node's open streams while <paramref name="serve"/> runs, and says how
    /// it ended: the cloud's reason when the cloud ended it, nothing when the node went away, UNAVAILABLE (and the cause
    /// in the cloud's log only) when a store failed.
    /// </summary>
    private async Task ServeAsync(ServerCallContext context, string failure, Func<NodeConnection, Task> serve)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (node, token) = await AuthenticateAsync(context);
        using var connection = _connections.Open(node, token, context.CancellationToken);
        try
        {
            await serve(connection);
        }
        catch (Exception) when (connection.EndedWith is { } ended)
        {
            throw new RpcException(ended);
        }
        catch (Exception) when (context.CancellationToken.IsCancellationRequested)
        {
            // The node went away or the server is stopping: nobody is left to tell.
        }
        catch (Exception error) when (error is not RpcException)
        {
            NodeSyncLog.StreamFailed(_logger, context.Method, node.Name, node.Id, error);
            throw NodeSyncErrors.Unavailable(failure);
        }
    }

    private async Task SyncRulesAsync(NodeConnection connection, IAsyncStreamReader<RulesRequest> requests, IServerStreamWriter<RulesResponse> responses)
    {
        var (node, cancellationToken) = (connection.Node, connection.Aborted);
        if (!await requests.MoveNext(cancellationToken))
        {
            return;
        }
        var request = requests.Current;
        if (request.KindCase != RulesRequest.KindOneofCase.Hello)
        {
            throw NodeSyncErrors.HelloFirst(request.KindCase);
        }
        var hello = request.Hello;
        var mode = CheckHello(hello);

        await _registry.ConnectedAsync(node.Id, mode, hello.SoftwareVersion, hello.RuleVersion, cancellationToken);
        await SeenAsync(connection);
        NodeSyncLog.NodeConnected(_logger, node.Name, node.Id, hello.RuleVersion, hello.KeyId == _keyring.KeyId, mode, hello.SoftwareVersion);
        try
        {
            var stream = new RuleStream(node, hello, _feed, _reads, _keyring, _registry, _applied, () => SeenAsync(connection), _options, _logger);
            await stream.RunAsync(requests, responses, cancellationToken);
        }
        finally
        {
            await DisconnectedAsync(node);
        }
    }

    private async Task ShipEventsAsync(NodeConnection connection, IAsyncStreamReader<EventBatch> batches, IServerStreamWriter<EventBatchAck> acks)
    {
        var (node, cancellationToken) = (connection.Node, connection.Aborted);
        while (await batches.MoveNext(cancellationToken))
        {
            await SeenAsync(connection);
            var ack = await StoreAsync(node, batches.Current, cancellationToken);
            await acks.WriteAsync(ack, cancellationToken);
        }
    }

    private Task SeenAsync(NodeConnection connection) =>
        connection.SeenDue() ? _registry.SeenAsync(connection.Node.Id, connection.Aborted) : Task.CompletedTask;

    private async Task<EventBatchAck> StoreAsync(NodeIdentity node, EventBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Events.Count > EventBatchLimits.MaxEventsPerBatch)
        {
            throw NodeSyncErrors.BatchTooLarge(batch.BatchId, batch.Events.Count);
        }

        var accepted = new List<IncomingAttack>(batch.Events.Count);
        var ids = new HashSet<string>(batch.Events.Count, StringComparer.Ordinal);
        var repeated = 0;
        var skipped = 0;
        string? firstProblem = null;
        foreach (var wire in batch.Events)
        {
            var attack = IncomingEvents.Map(wire, out var problem);
            if (attack is null)
            {
                skipped++;
                firstProblem ??= problem;
            }
            else if (ids.Add(attack.Id))
            {
                accepted.Add(attack);
            }
            else
            {
                // The same event twice in one batch is a resend as much as the same event in two batches.
                repeated++;
            }
        }

        var (stored, duplicates) = accepted.Count == 0 ? (0, 0) : await _attacks.InsertBatchAsync(node.Id, accepted, cancellationToken);
        if (batch.Dropped > 0)
        {
            await _attacks.RecordDroppedAsync(node.Id, batch.Dropped, cancellationToken);
            NodeSyncLog.EventsDropped(_logger, node.Name, node.Id, batch.Dropped);
        }
        if (skipped > 0)
        {
            NodeSyncLog.EventsSkipped(_logger, skipped, batch.BatchId, node.Name, node.Id, firstProblem!);
        }
        NodeSyncLog.BatchStored(_logger, batch.BatchId, node.Id, stored, duplicates + repeated, skipped);
        return new EventBatchAck { BatchId = batch.BatchId, Stored = stored, Duplicates = duplicates + repeated };
    }

    /// <summary>The node the call's token belongs to; ends the call with UNAUTHENTICATED or PERMISSION_DENIED when there is none.</summary>
    private async Task<(NodeIdentity Node, string Token)> AuthenticateAsync(ServerCallContext context)
    {
        var token = BearerToken(context.RequestHeaders.GetValue("authorization"));
        var peer = context.Peer;
        var method = context.Method;
        if (token is null)
        {
            NodeSyncLog.CallRefused(_logger, method, peer, "no node token");
            throw NodeSyncErrors.MissingToken();
        }
        var node = await _registry.AuthenticateAsync(token, context.CancellationToken);
        if (node is null)
        {
            NodeSyncLog.CallRefused(_logger, method, peer, "unknown node token");
            throw NodeSyncErrors.UnknownToken();
        }
        if (node.Revoked)
        {
            NodeSyncLog.CallRefused(_logger, method, peer, $"token of node {node.Id}, revoked");
            throw NodeSyncErrors.RevokedToken(node);
        }
        return (node, token);
    }

    private static string? BearerToken(string? authorization)
    {
        const string Scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = authorization[Scheme.Length..].Trim();
        return token.Length == 0 ? null : token;
    }

    private static string CheckHello(NodeHello hello)
    {
        if (hello.RuleVersion < 0)
        {
            throw NodeSyncErrors.BadHello($"rule_version is {hello.RuleVersion}; it is 0 (no rules) or a version the cloud sent");
        }
        // The registry shows these to users: keep them to the two modes and a version string of sane length.
        var mode = hello.Mode.ToLowerInvariant();
        if (mode is not (BlockMode or MonitorMode))
        {
            throw NodeSyncErrors.BadHello($"mode must be 'block' or 'monitor', not '{Clip(hello.Mode)}'");
        }
        if (hello.SoftwareVersion.Length > 64)
        {
            throw NodeSyncErrors.BadHello($"software_version has {hello.SoftwareVersion.Length} characters; at most 64");
        }
        if (hello.KeyId.Length > 64)
        {
            throw NodeSyncErrors.BadHello($"key_id has {hello.KeyId.Length} characters; at most 64");
        }
        return mode;
    }

    private const string BlockMode = "block";
    private const string MonitorMode = "monitor";

    private static string Clip(string value) => value.Length <= 20 ? value : value[..20] + "…";

    private async Task DisconnectedAsync(NodeIdentity node)
    {
        try
        {
            // The call's token is cancelled by now; recording the disconnect must still happen.
            await _registry.DisconnectedAsync(node.Id, CancellationToken.None);
            NodeSyncLog.NodeDisconnected(_logger, node.Name, node.Id);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            NodeSyncLog.DisconnectNotRecorded(_logger, node.Id, error);
        }
    }
}
