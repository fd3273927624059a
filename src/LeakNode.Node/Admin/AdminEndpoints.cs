using System.Text.Json;
using System.Text.Json.Serialization;
using LeakNode.Node.Configuration;
using LeakNode.Node.Events;
using LeakNode.Node.Rules;
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
    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints, NodeConfiguration settings, RuleState rules, EventQueue queue)
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
                new CloudStatus(!string.IsNullOrWhiteSpace(settings.Cloud.GrpcUrl), Connected: false),
                new EventsStatus(queue.Count));
            return TypedResults.Text(JsonSerializer.Serialize(status, AdminJsonContext.Default.NodeStatus), "application/json");
        });

        return endpoints;
    }
}

internal sealed record NodeStatus(string Node, string Mode, bool Ready, RulesStatus Rules, CloudStatus Cloud, EventsStatus Events);

internal sealed record RulesStatus(long? Version, string? Source, DateTimeOffset? LoadedAt, int Leaks, int Tokens);

internal sealed record CloudStatus(bool Configured, bool Connected);

internal sealed record EventsStatus(int Queued);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeStatus))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
