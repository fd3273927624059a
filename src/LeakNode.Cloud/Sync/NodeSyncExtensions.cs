using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeakNode.Cloud.Sync;

/// <summary>Registers and maps the node protocol: <c>services.AddGrpc(); services.AddNodeSync();</c> … <c>app.MapNodeSync()</c>.</summary>
internal static class NodeSyncExtensions
{
    /// <summary>
    /// The gRPC service, its options (section <c>NodeSync</c>, checked at start) and the connection tracker. The four
    /// stores it speaks to (<see cref="IRuleFeed"/>, <see cref="IDeploymentKeyring"/>, <see cref="INodeRegistry"/>,
    /// <see cref="IAttackStore"/>) are the host's to register.
    /// </summary>
    public static IServiceCollection AddNodeSync(this IServiceCollection services)
    {
        services.AddOptions<NodeSyncOptions>().BindConfiguration(NodeSyncOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<NodeSyncOptions>, NodeSyncOptionsValidator>();
        services.AddSingleton<NodeConnections>();
        services.AddSingleton<SharedFeedReads>();
        services.AddSingleton<AppliedBatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<NodeConnections>());

        // AddGrpc is idempotent; here it only makes AddServiceOptions available when the host has not called it yet.
        services.AddGrpc().AddServiceOptions<NodeSyncService>(grpc =>
        {
            // A node's messages are hellos, acks and event batches (a node caps its batches at 1 MiB); 4 MB, gRPC's
            // default, leaves room and bounds what one call can make the cloud buffer.
            grpc.MaxReceiveMessageSize = 4 * 1024 * 1024;
            // Snapshot parts are sized to stay under the node's 4 MB limit (RuleMapping.SnapshotTokensPerPart);
            // no cap here, so that an oversized part fails on the node with a clear message rather than here.
            grpc.MaxSendMessageSize = null;
        });

        // Streams that last for days need HTTP/2 keepalive (see NodeSyncOptions.KeepAlivePingDelay). This applies to
        // every HTTP/2 connection of the host, which costs an idle REST client one 8-byte ping per delay.
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<NodeSyncOptions>>((kestrel, sync) =>
        {
            kestrel.Limits.Http2.KeepAlivePingDelay = sync.Value.KeepAlivePingDelay;
            kestrel.Limits.Http2.KeepAlivePingTimeout = sync.Value.KeepAlivePingTimeout;
        });
        return services;
    }

    /// <summary>Maps the node protocol's service. The host may restrict it to its gRPC listener (<c>RequireHost</c>) on the result.</summary>
    public static GrpcServiceEndpointConventionBuilder MapNodeSync(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<NodeSyncService>();
}
