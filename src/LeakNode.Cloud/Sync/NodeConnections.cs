using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Sync;

/// <summary>
/// The node streams open on this cloud replica, so that a node whose token stops being valid loses them. The
/// registry keeps the durable state (connected, last seen); this only knows which calls to end.
/// </summary>
/// <remarks>
/// Two ways end a node's streams: <see cref="EndNode"/>, which whoever revokes a node on this replica calls, ends
/// them at once; and a check every <see cref="NodeSyncOptions.RevocationCheckInterval"/> of each connected node's
/// token against the registry, which catches a revocation made anywhere else (another replica, the database).
/// </remarks>
internal sealed class NodeConnections : BackgroundService
{
    private readonly ConcurrentDictionary<NodeConnection, byte> _open = new();
    private readonly IServiceScopeFactory _scopes;
    private readonly NodeSyncOptions _options;
    private readonly ILogger _logger;

    public NodeConnections(IServiceScopeFactory scopes, IOptions<NodeSyncOptions> options, IHostApplicationLifetime lifetime, ILogger<NodeConnections> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lifetime);
        _scopes = scopes;
        _options = options.Value;
        _logger = logger;
        // Node streams never end by themselves: left open, they would hold the server's shutdown for its whole
        // timeout (HTTP/2 GOAWAY lets open streams run on). Ended at once, nodes reconnect to another replica, or
        // to this one when it is back.
        lifetime.ApplicationStopping.Register(() => End(_ => true, _ => NodeSyncErrors.ShuttingDown()));
    }

    /// <summary>The ids of the nodes with at least one stream open on this replica.</summary>
    public IReadOnlyCollection<string> ConnectedNodeIds => [.. _open.Keys.Select(c => c.Node.Id).Distinct(StringComparer.Ordinal)];

    /// <summary>Registers an open call; disposing the result unregisters it. Its token ends when the call does or when the node is ended.</summary>
    /// <param name="token">The node token the call came with, kept only to check it again (never logged).</param>
    public NodeConnection Open(NodeIdentity node, string token, CancellationToken callAborted)
    {
        var connection = new NodeConnection(this, node, token, callAborted);
        _open.TryAdd(connection, 0);
        return connection;
    }

    /// <summary>Ends every open stream of a node with PERMISSION_DENIED (its token was revoked). Returns how many were open.</summary>
    public int EndNode(string nodeId) => End(c => c.Node.Id == nodeId, NodeSyncErrors.RevokedWhileConnected);

    internal void Close(NodeConnection connection) => _open.TryRemove(connection, out _);

    private int End(Func<NodeConnection, bool> which, Func<NodeIdentity, RpcException> error)
    {
        var ended = 0;
        foreach (var connection in _open.Keys)
        {
            if (which(connection) && connection.End(error(connection.Node)))
            {
                ended++;
            }
        }
        return ended;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.RevocationCheckInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await CheckTokensAsync(stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A database hiccup must not stop the checks for good; the next tick tries again.
                NodeSyncLog.RevocationCheckFailed(_logger, error);
            }
        }
    }

    /// <summary>Checks each distinct token of the open streams once and ends the streams of any that is revoked or gone.</summary>
    internal async Task CheckTokensAsync(CancellationToken cancellationToken)
    {
        var byToken = _open.Keys.GroupBy(c => c.Token, StringComparer.Ordinal).ToList();
        if (byToken.Count == 0)
        {
            return;
        }
        await using var scope = _scopes.CreateAsyncScope();
        var registry = scope.ServiceProvider.GetRequiredService<INodeRegistry>();
        foreach (var streams in byToken)
        {
            var node = await registry.AuthenticateAsync(streams.Key, cancellationToken);
            var expected = streams.First().Node;
            RpcException? error = node switch
            {
                null => NodeSyncErrors.UnknownWhileConnected(expected),
                { Revoked: true } => NodeSyncErrors.RevokedWhileConnected(expected),
                _ when node.Id != expected.Id => NodeSyncErrors.UnknownWhileConnected(expected),
                _ => null,
            };
            if (error is null)
            {
                continue;
            }
            var ended = streams.Count(c => c.End(error));
            if (ended > 0)
            {
                NodeSyncLog.NodeEnded(_logger, expected.Name, expected.Id, ended, error.Status.Detail);
            }
        }
    }
}

/// <summary>One open node stream. <see cref="Aborted"/> fires when the call ends or the node is ended.</summary>
internal sealed class NodeConnection : IDisposable
{
    private readonly NodeConnections _owner;
    private readonly CancellationTokenSource _abort;
    private StrongBox<Status>? _endedWith;
    private long _seenRecordedAt = long.MinValue;

    internal NodeConnection(NodeConnections owner, NodeIdentity node, string token, CancellationToken callAborted)
    {
        _owner = owner;
        Node = node;
        Token = token;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(callAborted);
    }

    public NodeIdentity Node { get; }

    internal string Token { get; }

    public CancellationToken Aborted => _abort.Token;

    /// <summary>Why the cloud ended the stream (the status to end the call with), or null while it has not.</summary>
    public Status? EndedWith => Volatile.Read(ref _endedWith)?.Value;

    /// <summary>
    /// Whether the node's last-seen time is due to be recorded for a message now: on the first message, then at most
    /// once every <see cref="SeenPrecision"/>. A node list shows last seen to a few seconds; a database write for
    /// every ack and every batch would put one more write per message on SQLite's single writer, in the way of the
    /// writes that matter (acks, events, the changes nodes wait for).
    /// </summary>
    public bool SeenDue()
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _seenRecordedAt);
        if (last != long.MinValue && now - last < (long)SeenPrecision.TotalMilliseconds)
        {
            return false;
        }
        return Interlocked.CompareExchange(ref _seenRecordedAt, now, last) == last;
    }

    /// <summary>How stale a connected node's recorded last-seen time may get.</summary>
    public static readonly TimeSpan SeenPrecision = TimeSpan.FromSeconds(10);

    /// <summary>Ends the stream with <paramref name="error"/>'s status; false when it was ended already.</summary>
    internal bool End(RpcException error)
    {
        if (Interlocked.CompareExchange(ref _endedWith, new StrongBox<Status>(error.Status), null) is not null)
        {
            return false;
        }
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished while it was being ended: nothing left to end.
        }
        return true;
    }

    public void Dispose()
    {
        _owner.Close(this);
        _abort.Dispose();
    }
}
