using System.Text.Json;
using System.Text.Json.Serialization;
using LeakNode.Node.Configuration;
using LeakNode.Node.Events;
using LeakNode.Node.Rules;
using LeakNode.Node.RuleSync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace LeakNode.Node.Admin;

/// <summary>
/// The admin listener's endpoints (CONTRACT.md): <c>/healthz</c> (the process answers), <c>/readyz</c> (a rule
/// set is loaded), <c>/status</c> (what the node enforces). <c>/metrics</c> is mapped by the host.
/// </summary>
internal static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints, NodeConfiguration settings, RuleState rules, EventQueue queue, CloudLink? cloud)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok\n"));

        endpoints.MapGet("/readyz", () =>
            rules.Current is null
                ? TypedResults.Text("not ready: no rule set loaded\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : TypedResults.Text("ready\n"));

        endpoints.MapGet("/status", () =>
        {
            var current = rules.Current;
            var status = new NodeStatus(
                settings.Node.Name,
                settings.Node.Mode.ToString().ToLowerInvariant(),
                current is not null,
                new RulesStatus(current?.Version, rules.Source, rules.LoadedAt, current?.LeakCount ?? 0, current?.TokenCount ?? 0),
                CloudStatusOf(cloud),
                EventsStatusOf(queue, cloud?.Shipper));
            return TypedResults.Text(JsonSerializer.Serialize(status, AdminJsonContext.Default.NodeStatus), "application/json");
        });

        return endpoints;
    }

    private static CloudStatus CloudStatusOf(CloudLink? cloud)
    {
        if (cloud is null)
        {
            return new CloudStatus(Configured: false, Connected: false, State: "standalone", null, null, null, null, 0);
        }
        var now = cloud.Connection.Current;
        return new CloudStatus(
            Configured: true, now.State == CloudConnectionState.Connected, now.State.ToString().ToLowerInvariant(), now.Endpoint, now.Since,
            now.LastError, now.LastErrorAt, now.Reconnects);
    }

    private static EventsStatus EventsStatusOf(EventQueue queue, EventShipper? shipper) =>
        new(queue.Count + (shipper?.Pending ?? 0), shipper?.Spool.Events ?? 0, shipper?.Spool.Bytes ?? 0, queue.Dropped + (shipper?.Spool.Dropped ?? 0), shipper?.Shipped ?? 0);
}

internal sealed record NodeStatus(string Node, string Mode, bool Ready, RulesStatus Rules, CloudStatus Cloud, EventsStatus Events);

internal sealed record RulesStatus(long? Version, string? Source, DateTimeOffset? LoadedAt, int Leaks, int Tokens);

/// <param name="State"><c>standalone</c> (no cloud configured), <c>connecting</c>, <c>connected</c>, <c>refused</c> (the node token was refused), or <c>disconnected</c>.</param>
/// <param name="Since">Connected: since when; otherwise since when the node has been without the cloud.</param>
internal sealed record CloudStatus(
    bool Configured, bool Connected, string State, string? Endpoint, DateTimeOffset? Since, string? LastError, DateTimeOffset? LastErrorAt, long Reconnects);

/// <param name="Queued">Events in memory waiting for the cloud (queued, or in the batch being sent).</param>
/// <param name="Spooled">Events on disk waiting for the cloud.</param>
/// <param name="Dropped">Events dropped since start (queue or spool full).</param>
/// <param name="Shipped">Events the cloud acknowledged since start.</param>
internal sealed record EventsStatus(int Queued, long Spooled, long SpoolBytes, long Dropped, long Shipped);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeStatus))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
