using Grpc.Core;
using Grpc.Net.Client;
using LeakNode.Node.Configuration;
using LeakNode.Protocol.V1;

namespace LeakNode.Node.RuleSync;

/// <summary>
/// One gRPC channel per configured cloud URL, shared by the rule stream and the event stream (so both ride one
/// HTTP/2 connection), and the call headers that authenticate the node. The token lives in those headers only:
/// it is never logged nor written anywhere.
/// </summary>
internal sealed class CloudChannels : IDisposable
{
    /// <summary>
    /// A snapshot part stays under 4 MB (RuleMapping.SnapshotTokensPerPart); twice that leaves room for a cloud that
    /// cuts its parts a little larger, and still bounds what a misbehaving peer can make the node hold.
    /// </summary>
    private const int MaxReceiveMessageBytes = 8 << 20;

    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.OrdinalIgnoreCase);
    private readonly CloudOptions _options;

    public CloudChannels(CloudOptions options)
    {
        _options = options;
        Endpoints = options.Endpoints;
        Headers = new Metadata { { "authorization", "Bearer " + options.Token } };
    }

    public IReadOnlyList<string> Endpoints { get; }

    /// <summary>The headers of every call: <c>authorization: Bearer &lt;node token&gt;</c>.</summary>
    public Metadata Headers { get; }

    public Reconnector NewReconnector() => new(Endpoints, _options.ReconnectInitialDelay, _options.ReconnectMaxDelay);

    public NodeSync.NodeSyncClient Client(string endpoint)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(endpoint, out var channel))
            {
                channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
                {
                    HttpHandler = new SocketsHttpHandler
                    {
                        ConnectTimeout = _options.ConnectTimeout,
                        // Streams idle for minutes are normal here (no rule change, no attack); pings find a cloud
                        // that vanished without closing the connection (a dead host, a dropped NAT entry).
                        KeepAlivePingDelay = _options.KeepAliveInterval,
                        KeepAlivePingTimeout = _options.KeepAliveInterval,
                        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                        EnableMultipleHttp2Connections = true,
                        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    },
                    MaxReceiveMessageSize = MaxReceiveMessageBytes,
                    // Shutdown cancels the calls: let that read as cancellation, not as a failed call to log.
                    ThrowOperationCanceledOnCancellation = true,
                    DisposeHttpClient = true,
                });
                _channels[endpoint] = channel;
            }
            return new NodeSync.NodeSyncClient(channel);
        }
    }

    /// <summary>What a failed call says, for logs and <c>/status</c>, and whether it was the token that was refused.</summary>
    public static (string Message, bool Refused) Describe(Exception error) => error switch
    {
        RpcException { StatusCode: StatusCode.Unauthenticated or StatusCode.PermissionDenied } rpc => ($"{rpc.StatusCode}: {rpc.Status.Detail}", true),
        RpcException rpc => ($"{rpc.StatusCode}: {rpc.Status.Detail}", false),
        _ => (error.Message, false),
    };

    /// <summary>True for the ways a call fails when the network or the cloud is away; anything else is a bug to log in full.</summary>
    public static bool IsConnectionFailure(Exception error) =>
        error is RpcException or IOException or HttpRequestException or OperationCanceledException;

    public void Dispose()
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Dispose();
            }
            _channels.Clear();
        }
    }
}
