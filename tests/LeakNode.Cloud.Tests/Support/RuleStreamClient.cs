using System.Threading.Channels;
using Grpc.Core;
using LeakNode.Protocol.V1;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>
/// A node's end of <c>SyncRules</c>: a pump reads every message the cloud sends into a queue, so that a test can
/// take the next one with a timeout, or check that none comes for a while, and see the status the call ended with.
/// </summary>
internal sealed class RuleStreamClient : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly AsyncDuplexStreamingCall<RulesRequest, RulesResponse> _call;
    private readonly Channel<RulesResponse> _received = Channel.CreateUnbounded<RulesResponse>();
    private readonly Task _pump;
    private RpcException? _ended;

    public RuleStreamClient(AsyncDuplexStreamingCall<RulesRequest, RulesResponse> call)
    {
        _call = call;
        _pump = PumpAsync();
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var response in _call.ResponseStream.ReadAllAsync())
            {
                await _received.Writer.WriteAsync(response);
            }
            _received.Writer.Complete();
        }
        catch (RpcException error)
        {
            _ended = error;
            _received.Writer.Complete(error);
        }
    }

    public Task HelloAsync(long ruleVersion, string keyId, string mode = "block", string softwareVersion = "test-1.0") =>
        _call.RequestStream.WriteAsync(new RulesRequest
        {
            Hello = new NodeHello { RuleVersion = ruleVersion, KeyId = keyId, Mode = mode, SoftwareVersion = softwareVersion },
        });

    public Task AckAsync(long version) => _call.RequestStream.WriteAsync(new RulesRequest { Ack = new RuleAck { Version = version, Applied = true } });

    public Task NackAsync(long version, string error) =>
        _call.RequestStream.WriteAsync(new RulesRequest { Ack = new RuleAck { Version = version, Applied = false, Error = error } });

    public Task SendAsync(RulesRequest request) => _call.RequestStream.WriteAsync(request);

    public Task CompleteAsync() => _call.RequestStream.CompleteAsync();

    /// <summary>The next message from the cloud; fails when none comes within 10 s.</summary>
    public async Task<RulesResponse> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Patience);
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    public async Task<DeploymentKey> KeyAsync()
    {
        var response = await NextAsync();
        Assert.Equal(RulesResponse.KindOneofCase.Key, response.KindCase);
        return response.Key;
    }

    /// <summary>The next rule update, every part of it (a snapshot may come in several).</summary>
    public async Task<IReadOnlyList<RuleUpdate>> UpdateAsync()
    {
        var parts = new List<RuleUpdate>();
        while (true)
        {
            var response = await NextAsync();
            Assert.Equal(RulesResponse.KindOneofCase.Update, response.KindCase);
            parts.Add(response.Update);
            if (response.Update.Last)
            {
                return parts;
            }
        }
    }

    /// <summary>A delta update, in one part.</summary>
    public async Task<RuleUpdate> DeltaAsync()
    {
        var parts = await UpdateAsync();
        var update = Assert.Single(parts);
        Assert.False(update.Snapshot, "expected a delta, got a snapshot");
        return update;
    }

    /// <summary>Checks that the cloud sends nothing for <paramref name="wait"/>.</summary>
    public async Task NothingForAsync(TimeSpan wait)
    {
        await Task.Delay(wait);
        Assert.False(_received.Reader.TryPeek(out var response), $"expected nothing, got {response}");
    }

    /// <summary>The status the call ended with; fails when it does not end within 10 s.</summary>
    public async Task<RpcException> EndedAsync()
    {
        await _pump.WaitAsync(Patience);
        return _ended ?? new RpcException(_call.GetStatus());
    }

    public async ValueTask DisposeAsync()
    {
        _call.Dispose();
        try
        {
            await _pump.WaitAsync(Patience);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
