using Grpc.Core;
using Grpc.Net.Client;
using LeakNode.Protocol.V1;

namespace LeakNode.Benchmarks.Propagation;

/// <summary>
/// A node as the cloud sees it, and nothing more: a real gRPC client on its own connection that says hello, acks
/// every rule update the moment its last part arrives, and notes when it acked each version. No matcher is built:
/// what is measured is the cloud's fan-out, not a node's build time (which bench/README.md reports apart).
/// </summary>
internal sealed class SimulatedNode : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly AsyncDuplexStreamingCall<RulesRequest, RulesResponse> _call;
    private readonly Lock _lock = new();
    private readonly Task _loop;
    private long _acked = -1;
    private long _ackedAt;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SimulatedNode(GrpcChannel channel, AsyncDuplexStreamingCall<RulesRequest, RulesResponse> call)
    {
        _channel = channel;
        _call = call;
        _loop = RunAsync();
    }

    /// <summary>Connects with <paramref name="token"/> as a new node (no rules, no key) and says hello.</summary>
    public static async Task<SimulatedNode> ConnectAsync(Uri grpcUrl, string token)
    {
        var channel = GrpcChannel.ForAddress(grpcUrl);
        var call = new NodeSync.NodeSyncClient(channel).SyncRules(new Metadata { { "authorization", "Bearer " + token } });
        await call.RequestStream.WriteAsync(new RulesRequest { Hello = new NodeHello { Mode = "block", SoftwareVersion = "bench" } });
        return new SimulatedNode(channel, call);
    }

    /// <summary>The version this node acked last (-1 before any).</summary>
    public long Acked
    {
        get
        {
            lock (_lock)
            {
                return _acked;
            }
        }
    }

    /// <summary>Waits until the node acks a version newer than <paramref name="afterVersion"/>; returns the <see cref="System.Diagnostics.Stopwatch"/> timestamp of that ack.</summary>
    public async Task<long> AckedAfterAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_acked > afterVersion)
                {
                    return _ackedAt;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    private async Task RunAsync()
    {
        await foreach (var response in _call.ResponseStream.ReadAllAsync())
        {
            if (response.KindCase != RulesResponse.KindOneofCase.Update || !response.Update.Last)
            {
                continue;
            }
            var version = response.Update.Version;
            await _call.RequestStream.WriteAsync(new RulesRequest { Ack = new RuleAck { Version = version, Applied = true } });
            TaskCompletionSource changed;
            lock (_lock)
            {
                _acked = version;
                _ackedAt = System.Diagnostics.Stopwatch.GetTimestamp();
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.SetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        try
        {
            await _loop;
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.Cancelled)
        {
        }
        _channel.Dispose();
    }
}
