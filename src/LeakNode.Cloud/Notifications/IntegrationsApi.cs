using System.Globalization;
using System.Security.Claims;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Notifications.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LeakNode.Cloud.Notifications;

/// <summary>The notification channels REST API (CONTRACT.md: <c>/api/v1/integrations</c>), for admins only: channel settings are secrets.</summary>
internal static class IntegrationsApi
{
    public static RouteGroupBuilder MapIntegrationsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/integrations").WithTags("Notifications").RequireAuthorization(AuthPolicies.Admin);
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync).Accepts<IntegrationRequest>("application/json");
        group.MapGet("/{id}", GetAsync);
        group.MapPatch("/{id}", UpdateAsync).Accepts<IntegrationRequest>("application/json");
        group.MapDelete("/{id}", DeleteAsync);
        group.MapPost("/{id}/test", TestAsync);
        group.MapGet("/{id}/deliveries", DeliveriesAsync);
        return group;
    }

    private static async Task<Ok<IReadOnlyList<IntegrationView>>> ListAsync(IntegrationService service, HttpContext context) =>
        TypedResults.Ok(await service.ListAsync(context.RequestAborted));

    private static async Task<Results<Ok<IntegrationView>, ProblemHttpResult>> GetAsync(string id, IntegrationService service, HttpContext context) =>
        await service.GetAsync(id, context.RequestAborted) is { } view ? TypedResults.Ok(view) : NotFound(id);

    private static async Task<Results<Created<IntegrationView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, IntegrationService service, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<IntegrationRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var result = await service.CreateAsync(body!, ApiKeyUser.Name(user), request.HttpContext.RequestAborted);
        if (result.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "The request is not valid");
        }
        return result.Value is { } view ? TypedResults.Created($"/api/v1/integrations/{view.Id}", view) : Refused(result, "");
    }

    private static async Task<Results<Ok<IntegrationView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, HttpRequest request, IntegrationService service, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<IntegrationRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var result = await service.UpdateAsync(id, body!, ApiKeyUser.Name(user), request.HttpContext.RequestAborted);
        if (result.Errors is { } errors)
        {
            return TypedResults.ValidationProblem(errors, title: "The request is not valid");
        }
        return result.Value is { } view ? TypedResults.Ok(view) : Refused(result, id);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, IntegrationService service, ClaimsPrincipal user, HttpContext context) =>
        await service.DeleteAsync(id, ApiKeyUser.Name(user), context.RequestAborted) ? TypedResults.NoContent() : NotFound(id);

    /// <summary>Sends a test now and answers the delivery: <c>status</c> <c>sent</c>, or <c>failed</c> with the receiver's error.</summary>
    private static async Task<Results<Ok<DeliveryView>, ProblemHttpResult>> TestAsync(string id, IntegrationService service, ClaimsPrincipal user, HttpContext context) =>
        await service.TestAsync(id, ApiKeyUser.Name(user), context.RequestAborted) is { } delivery ? TypedResults.Ok(delivery) : NotFound(id);

    private static async Task<Results<Ok<DeliveryPage>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(
        string id, HttpRequest request, IntegrationService service, CloudConfiguration configuration)
    {
        var errors = new Errors();
        var limit = configuration.Limits.DefaultPageSize;
        if (request.Query["limit"].ToString() is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > configuration.Limits.MaxPageSize))
        {
            errors.Add("limit", $"must be between 1 and {configuration.Limits.MaxPageSize}");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var (page, cursorProblem) = await service.DeliveriesAsync(id, request.Query["cursor"].ToString(), limit, request.HttpContext.RequestAborted);
        if (cursorProblem is not null)
        {
            return JsonBody.Invalid("cursor", cursorProblem);
        }
        return page is null ? NotFound(id) : TypedResults.Ok(page);
    }

    private static ProblemHttpResult Refused(IntegrationResult result, string id) =>
        result.Conflict is { } conflict ? Problems.Conflict(conflict) : NotFound(id);

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"no notification channel has id '{id}'");

    /// <summary>Registers the notification services: channels, outbox, attempt watch, digest and the delivery worker.</summary>
    public static IServiceCollection AddNotifications(this IServiceCollection services, CloudConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(configuration.Notifications);
        services.AddSingleton<ConsoleLinks>();
        services.AddSingleton<NotificationOutbox>();
        services.AddSingleton<AttemptWatch>();
        services.AddSingleton<IntegrationStore>();
        services.AddSingleton<DeliveryStore>();
        services.AddSingleton<ChannelSender>();
        services.AddSingleton<DailyDigest>();
        services.AddSingleton<IntegrationService>();
        if (configuration.Notifications.Enabled)
        {
            services.AddHostedService<DeliveryWorker>();
        }
        return services;
    }
}
