using System.Security.Claims;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace LeakNode.Cloud.Auth;

/// <summary><c>POST /api/v1/api-keys {name, role}</c>.</summary>
public sealed record CreateApiKeyRequest(string? Name, string? Role);

/// <summary>A new API key; <see cref="Key"/> is shown this once.</summary>
public sealed record CreatedApiKey(string Id, string Name, string Role, string Key);

internal static class ApiKeysApi
{
    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/api-keys").WithTags("Access");
        group.MapPost("", CreateAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<CreateApiKeyRequest>("application/json");
        group.MapGet("", ListAsync).RequireAuthorization(AuthPolicies.Admin);
        group.MapDelete("/{id}", RevokeAsync).RequireAuthorization(AuthPolicies.Admin);
        return group;
    }

    /// <summary>Every key by id, name, role and creation time; never the key (only its hash is kept).</summary>
    private static async Task<Ok<IReadOnlyList<ApiKeyListing>>> ListAsync(ApiKeyStore keys, HttpContext context) =>
        TypedResults.Ok(await keys.ListAsync(context.RequestAborted));

    /// <summary>Revokes a key at once, on every replica. The last admin key cannot be revoked (409).</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(string id, ApiKeyStore keys, ClaimsPrincipal user, HttpContext context) =>
        await keys.RevokeAsync(id, ApiKeyUser.Name(user), context.RequestAborted) switch
        {
            ApiKeyRevocation.Revoked => TypedResults.NoContent(),
            ApiKeyRevocation.LastAdmin => Problems.Conflict($"API key '{id}' is the last admin key: create another admin key first, so that the API is not locked out"),
            _ => Problems.NotFound($"no API key has id '{id}'"),
        };

    private static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> CreateAsync(HttpRequest request, ApiKeyStore keys, CloudConfiguration configuration)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateApiKeyRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Errors();
        var name = body!.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > configuration.Limits.MaxNameLength)
        {
            errors.Add("name", $"must be 1 to {configuration.Limits.MaxNameLength} characters");
        }
        if (body.Role is null || !ApiRoles.All.Contains(body.Role))
        {
            errors.Add("role", $"must be one of {string.Join(", ", ApiRoles.All)}");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var (identity, key) = await keys.CreateAsync(name!, body.Role!, request.HttpContext.RequestAborted);
        return TypedResults.Created($"/api/v1/api-keys/{identity.Id}", new CreatedApiKey(identity.Id, identity.Name, identity.Role, key));
    }
}
