using System.Security.Claims;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Diagnostics;
using LeakNode.Cloud.Leaks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LeakNode.Cloud.Inventory;

/// <summary>
/// The token inventory REST API (docs/INVENTORY.md): add tokens or digests, list, remove (admin writes, analysts
/// read the list); the inventory key and the digests, which together let anyone test guesses, for admins only.
/// </summary>
internal static partial class InventoryApi
{
    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    public static RouteGroupBuilder MapInventoryApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/inventory").WithTags("Inventory");
        group.MapPost("", AddAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<InventoryAddRequest>("application/json");
        group.MapGet("", ListAsync);
        group.MapDelete("/{id}", RemoveAsync).RequireAuthorization(AuthPolicies.Admin);
        group.MapGet("/key", KeyAsync).RequireAuthorization(AuthPolicies.Admin);
        group.MapGet("/digests", Digests).RequireAuthorization(AuthPolicies.Admin).Produces<InventoryDigestsView>(StatusCodes.Status200OK, "application/json");
        return group;
    }

    /// <summary>Registers the inventory key and store.</summary>
    public static IServiceCollection AddInventory(this IServiceCollection services)
    {
        services.AddSingleton<InventoryKeyring>();
        services.AddSingleton<InventoryStore>();
        return services;
    }

    /// <summary>201 when something was added, 200 when every token was there already.</summary>
    private static async Task<Results<Created<InventoryAddResult>, Ok<InventoryAddResult>, ValidationProblem, ProblemHttpResult>> AddAsync(
        HttpRequest request, [AsParameters] InventoryApiServices services, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<InventoryAddRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var key = await services.Keyring.GetAsync(request.HttpContext.RequestAborted);
        var errors = new Errors();
        var addition = InventoryValidation.Check(body!, key.KeyId, services.Configuration.Limits, errors);
        if (addition is null)
        {
            return errors.ToProblem();
        }
        try
        {
            var result = await services.Store.AddAsync(addition, ApiKeyUser.Name(user), request.HttpContext.RequestAborted);
            return result.Added > 0 ? TypedResults.Created("/api/v1/inventory", result) : TypedResults.Ok(result);
        }
        catch (InventoryFullException full)
        {
            return Problems.Conflict(full.Message);
        }
    }

    private static async Task<Results<Ok<Page<InventoryTokenView>>, ValidationProblem>> ListAsync(HttpRequest request, [AsParameters] InventoryApiServices services)
    {
        var errors = new Errors();
        var limit = LeakValidation.ReadLimit(request.Query, services.Configuration.Limits, errors);
        var cursor = request.Query["cursor"].ToString();
        if (cursor.Length > 0 && !IsTokenId(cursor))
        {
            errors.Add("cursor", "not a cursor of this list: pass nextCursor back unchanged");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await services.Store.ListAsync(cursor.Length == 0 ? null : cursor, limit, request.HttpContext.RequestAborted));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string id, [AsParameters] InventoryApiServices services, ClaimsPrincipal user, HttpContext context) =>
        await services.Store.RemoveAsync(id, ApiKeyUser.Name(user), context.RequestAborted)
            ? TypedResults.NoContent()
            : Problems.NotFound($"no inventory token has id '{id}'");

    /// <summary>The key the offline helper digests with. Never cached on the way: it is a secret.</summary>
    private static async Task<Ok<InventoryKeyView>> KeyAsync(
        HttpContext context, InventoryKeyring keyring, ClaimsPrincipal user, ILoggerFactory loggers)
    {
        var key = await keyring.GetAsync(context.RequestAborted);
        context.Response.Headers.CacheControl = "no-store";
        Log.KeyHandedOut(loggers.CreateLogger("LeakNode.Cloud.Inventory"), key.KeyId, ApiKeyUser.Name(user));
        return TypedResults.Ok(new InventoryKeyView(key.KeyId, key.Base64));
    }

    /// <summary>The key and every digest, streamed (<see cref="InventoryStore.WriteDigestsAsync"/>).</summary>
    private static PushStreamHttpResult Digests(HttpContext context, InventoryStore store, ClaimsPrincipal user)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Stream(body => store.WriteDigestsAsync(body, ApiKeyUser.Name(user), context.RequestAborted), "application/json");
    }

    /// <summary>An id <see cref="Storage.Ids.New"/> made for an inventory token: <c>inv_</c> and 32 lower-case hex digits.</summary>
    private static bool IsTokenId(string text) => text.StartsWith("inv_", StringComparison.Ordinal) && text.Length == 36 && !text.AsSpan(4).ContainsAnyExcept(LowerHex);

    private static partial class Log
    {
        [LoggerMessage(EventIds.InventoryKeyHandedOut, LogLevel.Information, "Inventory: key {KeyId} handed out to {Actor}")]
        public static partial void KeyHandedOut(ILogger logger, string keyId, string actor);
    }
}

/// <summary>What the inventory endpoints need, resolved per request.</summary>
internal sealed record InventoryApiServices(InventoryStore Store, InventoryKeyring Keyring, CloudConfiguration Configuration);
