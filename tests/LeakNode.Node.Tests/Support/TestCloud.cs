using System.Collections.Concurrent;
using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using LeakNode.Matching.Digests;
using LeakNode.Protocol;
using LeakNode.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RuleAction = LeakNode.Matching.Rules.RuleAction;
using TokenDigest = LeakNode.Matching.Digests.TokenDigest;

namespace LeakNode.Node.Tests.Support;

/// <summary>
/// A real gRPC server for the node protocol on a loopback port (clear-text HTTP/2), scriptable from a test: it
/// sends its deployment key and whatever <see cref="CloudScript.OnHello"/> returns, lets the test push updates,
/// records hellos, acks and event batches, refuses tokens, and drops connections. Its <see cref="Script"/> outlives
/// a restart (<see cref="RestartAsync"/>), on the same port, as a cloud replica coming back would.
/// </summary>
public sealed class TestCloud : IAsyncDisposable
{
    private WebApplication? _app;

    private TestCloud(CloudScript script) => Script = script;

    public CloudScript Script { get; }

    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    public static async Task<TestCloud> StartAsync(CloudScript? script = null)
    {
        var cloud = new TestCloud(script ?? new CloudScript());
        await cloud.ListenAsync(0);
        return cloud;
    }

    /// <summary>Stops the server: the node's connections fail as they would with a cloud gone.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            Script.DropAll();
            using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
            {
                await app.StopAsync(stop.Token);
            }
            await app.DisposeAsync();
        }
    }

    /// <summary>Starts the server again on the same port, with the same script and records.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        // The port was just released; another process may not take it in between on a test machine, but a retry
        // covers the short time the kernel may still hold it.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await ListenAsync(Port);
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private async Task ListenAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => o.MaxReceiveMessageSize = 16 << 20);
        builder.Services.AddSingleton(Script);
        var app = builder.Build();
        app.MapGrpcService<Service>();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        _app = app;
        Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private sealed class Service(CloudScript script) : NodeSync.NodeSyncBase
    {
        public override async Task SyncRules(IAsyncStreamReader<RulesRequest> requestStream, IServerStreamWriter<RulesResponse> responseStream, ServerCallContext context)
        {
            script.RuleAttempts.Enqueue(DateTimeOffset.UtcNow);
            if (script.Unavailable)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "replica going down"));
            }
            script.Authorize(context);
            if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.KindCase != RulesRequest.KindOneofCase.Hello)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "a node starts with its hello"));
            }
            var hello = requestStream.Current.Hello;
            script.Hellos.Enqueue(hello);
            var session = script.OpenSession(context);
            await responseStream.WriteAsync(new RulesResponse { Key = script.KeyMessage }, context.CancellationToken);
            foreach (var update in script.OnHello(hello))
            {
                await responseStream.WriteAsync(new RulesResponse { Update = update }, context.CancellationToken);
            }
            var acks = Task.Run(async () =>
            {
                while (await requestStream.MoveNext(context.CancellationToken))
                {
                    if (requestStream.Current.KindCase == RulesRequest.KindOneofCase.Ack)
                    {
                        script.Acks.Writer.TryWrite(requestStream.Current.Ack);
                    }
                }
            });
            try
            {
                await foreach (var update in session.Reader.ReadAllAsync(context.CancellationToken))
                {
                    await responseStream.WriteAsync(new RulesResponse { Update = update }, context.CancellationToken);
                }
            }
            finally
            {
                script.CloseSession(session);
            }
            await acks;
        }

        public override async Task ShipEvents(IAsyncStreamReader<EventBatch> requestStream, IServerStreamWriter<EventBatchAck> responseStream, ServerCallContext context)
        {
            script.Authorize(context);
            while (await requestStream.MoveNext(context.CancellationToken))
            {
                var batch = requestStream.Current;
                script.Batches.Enqueue(batch.Clone());
                if (script.LoseNextAck)
                {
                    // The batch arrived and was stored; the ack is lost with the connection.
                    script.LoseNextAck = false;
                    script.Store(batch);
                    context.GetHttpContext().Abort();
                    return;
                }
                var (stored, duplicates) = script.Store(batch);
                await responseStream.WriteAsync(new EventBatchAck { BatchId = batch.BatchId, Stored = stored, Duplicates = duplicates }, context.CancellationToken);
            }
        }
    }
}

/// <summary>What a <see cref="TestCloud"/> does and what it saw.</summary>
public sealed class CloudScript
{
    private readonly ConcurrentDictionary<Channel<RuleUpdate>, ServerCallContext> _sessions = new();
    private TaskCompletionSource _sessionOpened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CloudScript()
    {
        SetKey(DigestKey.GenerateBytes());
    }

    /// <summary>The node token this cloud accepts.</summary>
    public string Token { get; set; } = "node-token-" + Guid.NewGuid().ToString("N");

    /// <summary>The token was revoked: streams end with PERMISSION_DENIED.</summary>
    public bool Revoked { get; set; }

    /// <summary>Every SyncRules stream opened (accepted or not).</summary>
    public ConcurrentQueue<DateTimeOffset> RuleAttempts { get; } = new();

    public ConcurrentQueue<NodeHello> Hellos { get; } = new();

    public Channel<RuleAck> Acks { get; } = Channel.CreateUnbounded<RuleAck>();

    public ConcurrentQueue<EventBatch> Batches { get; } = new();

    /// <summary>Event ids stored, each once, with the event.</summary>
    public ConcurrentDictionary<string, LeakNode.Protocol.V1.AttackEvent> Stored { get; } = new();

    /// <summary>Every rule stream fails at once with UNAVAILABLE, before the key (a replica going down).</summary>
    public bool Unavailable { get; set; }

    /// <summary>The next event batch is recorded and stored, and its ack lost with the connection.</summary>
    public bool LoseNextAck { get; set; }

    /// <summary>What the cloud sends after the key when a node says hello. Default: nothing.</summary>
    public Func<NodeHello, IEnumerable<RuleUpdate>> OnHello { get; set; } = _ => [];

    public byte[] KeyBytes { get; private set; } = [];

    public DigestKey Key { get; private set; } = null!;

    public string KeyId { get; private set; } = "";

    internal DeploymentKey KeyMessage { get; private set; } = new();

    public void SetKey(byte[] key)
    {
        KeyBytes = key;
        Key = DigestKey.FromBytes(key);
        KeyId = RuleMapping.KeyId(key);
        KeyMessage = new DeploymentKey { Key = ByteString.CopyFrom(key), KeyId = KeyId, DigestScheme = TokenDigest.Scheme };
    }

    /// <summary>A leak in wire form, its tokens digested with this cloud's key.</summary>
    public LeakNode.Protocol.V1.LeakRule Leak(string id, RuleAction action, params string[] tokens)
    {
        var digester = new TokenDigester(Key);
        return RuleMapping.ToWire(new LeakNode.Matching.Rules.LeakRule(id, action, [.. tokens.Select((t, i) => digester.Digest($"{id}/t{i}", t))]));
    }

    /// <summary>A snapshot of <paramref name="leaks"/> at <paramref name="version"/>, in parts of at most <paramref name="tokensPerPart"/> tokens.</summary>
    public static List<RuleUpdate> Snapshot(long version, int tokensPerPart, params LeakNode.Protocol.V1.LeakRule[] leaks)
    {
        var parts = new List<RuleUpdate>();
        var part = new RuleUpdate { Version = version, Snapshot = true };
        var tokens = 0;
        foreach (var leak in leaks)
        {
            if (tokens > 0 && tokens + leak.Tokens.Count > tokensPerPart)
            {
                parts.Add(part);
                part = new RuleUpdate { Version = version, Snapshot = true, Part = part.Part + 1 };
                tokens = 0;
            }
            part.Upserted.Add(leak);
            tokens += leak.Tokens.Count;
        }
        part.Last = true;
        parts.Add(part);
        return parts;
    }

    /// <summary>Sends an update on the open rule stream (waiting for one to open).</summary>
    public async Task PushAsync(RuleUpdate update, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var opened = _sessionOpened.Task;
            var session = _sessions.Keys.FirstOrDefault();
            if (session is not null)
            {
                await session.Writer.WriteAsync(update, cancellationToken);
                return;
            }
            await opened.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The next ack or nack (waiting at most 10 s).</summary>
    public async Task<RuleAck> NextAckAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await Acks.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Drops every open connection abruptly.</summary>
    public void DropAll()
    {
        foreach (var (session, context) in _sessions)
        {
            session.Writer.TryComplete();
            context.GetHttpContext().Abort();
        }
    }

    internal void Authorize(ServerCallContext context)
    {
        var header = context.RequestHeaders.GetValue("authorization");
        if (header != "Bearer " + Token)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "unknown node token"));
        }
        if (Revoked)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "the node token was revoked"));
        }
    }

    internal Channel<RuleUpdate> OpenSession(ServerCallContext context)
    {
        var session = Channel.CreateUnbounded<RuleUpdate>();
        _sessions[session] = context;
        _sessionOpened.TrySetResult();
        return session;
    }

    internal void CloseSession(Channel<RuleUpdate> session)
    {
        _sessions.TryRemove(session, out _);
        if (_sessions.IsEmpty)
        {
            _sessionOpened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    internal (int Stored, int Duplicates) Store(EventBatch batch)
    {
        var stored = batch.Events.Count(e => Stored.TryAdd(e.Id, e));
        return (stored, batch.Events.Count - stored);
    }
}
