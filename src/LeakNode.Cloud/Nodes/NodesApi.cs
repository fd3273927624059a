using LeakNode.Cloud.Api;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Sync;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace LeakNode.Cloud.Nodes;

/// <summary><c>POST /api/v1/nodes {name}</c>.</summary>
public sealed record EnrollNodeRequest(string? Name);

/// <summary>Node enrolment (CONTRACT.md): enrol, list, revoke.</summary>
internal static class NodesApi
{
    public static RouteGroupBuilder MapNodesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/nodes").WithTags("Nodes");
        group.MapPost("", EnrollAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<EnrollNodeRequest>("application/json");
        group.MapGet("", async (NodeRegistry nodes, HttpContext context) => TypedResults.Ok(await nodes.ListAsync(context.RequestAborted)));
        group.MapPost("/{id}/revoke", RevokeAsync).RequireAuthorization(AuthPolicies.Admin);
        return group;
    }

    private static async Task<Results<Created<EnrolledNode>, ValidationProblem>> EnrollAsync(HttpRequest request, NodeRegistry nodes, CloudConfiguration configuration)
    {
        var (body, problem) = await JsonBody.ReadAsync<EnrollNodeRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var name = body!.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > configuration.Limits.MaxNameLength)
        {
            return JsonBody.Invalid("name", $"must be 1 to {configuration.Limits.MaxNameLength} characters");
        }
        var node = await nodes.EnrollAsync(name, request.HttpContext.RequestAborted);
        return TypedResults.Created($"/api/v1/nodes/{node.Id}", node);
    }

    private static async Task<Results<Ok<NodeView>, ProblemHttpResult>> RevokeAsync(string id, NodeRegistry nodes, NodeConnections connections, HttpContext context)
    {
        var node = await nodes.RevokeAsync(id, context.RequestAborted);
        if (node is null)
        {
            return Problems.NotFound($"no node has id '{id}'");
        }
        // The node's open streams on this process end now; those on other replicas at their next token check
        // (NodeSync:RevocationCheckInterval).
        connections.EndNode(id);
        return TypedResults.Ok(node);
    }
}
