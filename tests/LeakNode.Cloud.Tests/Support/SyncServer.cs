using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using LeakNode.Cloud.Sync;
using LeakNode.Protocol.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>
/// The node protocol's service on a real Kestrel server (HTTP/2 without TLS, loopback, a port the OS picks) over
/// in-memory stores, and real gRPC channels to it as the nodes. Collects every log line the server writes.
/// </summary>
internal sealed class SyncServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private SyncServer(WebApplication app, InMemoryRuleFeed feed, InMemoryDeploymentKeyring keyring, InMemoryNodeRegistry registry, InMemoryAttackStore attacks, ConcurrentQueue<string> logs)
    {
        _app = app;
        Feed = feed;
        Keyring = keyring;
        Registry = registry;
        Attacks = attacks;
        Logs = logs;
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Url = new Uri(address);
        _channel = GrpcChannel.ForAddress(Url);
    }

    public Uri Url { get; }

    public InMemoryRuleFeed Feed { get; }

    public InMemoryDeploymentKeyring Keyring { get; }

    public InMemoryNodeRegistry Registry { get; }

    public InMemoryAttackStore Attacks { get; }

    public ConcurrentQueue<string> Logs { get; }

    public NodeConnections Connections => _app.Services.GetRequiredService<NodeConnections>();

    /// <summary>Starts a server; <paramref name="settings"/> are configuration keys such as <c>NodeSync:AckTimeout</c>.</summary>
    public static async Task<SyncServer> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(settings ?? new Dictionary<string, string?>());
        var logs = new ConcurrentQueue<string>();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Debug).AddProvider(new CollectingLoggerProvider(logs));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddNodeSync();

        InMemoryRuleFeed feed = new();
        InMemoryDeploymentKeyring keyring = new();
        InMemoryNodeRegistry registry = new();
        InMemoryAttackStore attacks = new();
        builder.Services.AddSingleton<IRuleFeed>(feed);
        builder.Services.AddSingleton<IDeploymentKeyring>(keyring);
        builder.Services.AddSingleton<INodeRegistry>(registry);
        builder.Services.AddSingleton<IAttackStore>(attacks);

        var app = builder.Build();
        app.MapNodeSync();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        return new SyncServer(app, feed, keyring, registry, attacks, logs);
    }

    /// <summary>A client on the server's channel; each call says which node it is with <see cref="Bearer"/>.</summary>
    public NodeSync.NodeSyncClient Client() => new(_channel);

    public static Metadata Bearer(string? token) => token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };

    /// <summary>Opens <c>SyncRules</c> as a node with <paramref name="token"/>.</summary>
    public RuleStreamClient OpenRules(string? token) => new(Client().SyncRules(Bearer(token), cancellationToken: TestContext.Current.CancellationToken));

    /// <summary>Opens <c>ShipEvents</c> as a node with <paramref name="token"/>.</summary>
    public AsyncDuplexStreamingCall<EventBatch, EventBatchAck> OpenEvents(string? token) =>
        Client().ShipEvents(Bearer(token), cancellationToken: TestContext.Current.CancellationToken);

    /// <summary>Waits until <paramref name="condition"/> holds (the protocol is asynchronous); fails after 10 s.</summary>
    public static Task EventuallyAsync(Func<bool> condition, string what) => EventuallyAsync(() => Task.FromResult(condition()), what);

    /// <inheritdoc cref="EventuallyAsync(Func{bool}, string)"/>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>Stops the server as a shutdown would, the nodes' channel left open.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
