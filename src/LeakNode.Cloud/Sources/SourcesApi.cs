using System.Globalization;
using System.Security.Claims;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LeakNode.Cloud.Sources;

/// <summary>
/// The scan sources REST API (CONTRACT.md: <c>/api/v1/sources</c>) and <c>POST /api/v1/findings</c>, through which
/// <c>leaknode scan --cloud</c> files what it found. Analysts read; admins change.
/// </summary>
internal static class SourcesApi
{
    public static RouteGroupBuilder MapSourcesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/sources").WithTags("Sources");
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<SourceRequest>("application/json");
        group.MapGet("/{id}", GetAsync);
        group.MapPatch("/{id}", UpdateAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<SourceRequest>("application/json");
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(AuthPolicies.Admin);
        group.MapPost("/{id}/scan", ScanAsync).RequireAuthorization(AuthPolicies.Admin);
        group.MapGet("/{id}/runs", RunsAsync);
        endpoints.MapPost("/api/v1/findings", FindingsAsync).WithTags("Sources").RequireAuthorization(AuthPolicies.Admin).Accepts<FindingsRequest>("application/json");
        return group;
    }

    private static async Task<Ok<IReadOnlyList<ScanSourceView>>> ListAsync(SourceStore store, HttpContext context) =>
        TypedResults.Ok(await store.ListAsync(context.RequestAborted));

    private static async Task<Results<Ok<ScanSourceView>, ProblemHttpResult>> GetAsync(string id, SourceStore store, HttpContext context) =>
        await store.GetAsync(id, context.RequestAborted) is { } view ? TypedResults.Ok(view) : NotFound(id);

    /// <summary>Registers a source; an enabled one is scanned at once, then on its schedule.</summary>
    private static async Task<Results<Created<ScanSourceView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, SourceStore store, CloudConfiguration configuration, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<SourceRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Errors();
        if (SourceValidation.CheckNew(body!, configuration.Limits, configuration.Scanning, errors) is not { } source)
        {
            return errors.ToProblem();
        }
        try
        {
            var view = await store.CreateAsync(source, ApiKeyUser.Name(user), request.HttpContext.RequestAborted);
            return TypedResults.Created($"/api/v1/sources/{view.Id}", view);
        }
        catch (SourceRefusedException refused)
        {
            return Problems.Conflict(refused.Message);
        }
    }

    private static async Task<Results<Ok<ScanSourceView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        string id, HttpRequest request, SourceStore store, CloudConfiguration configuration)
    {
        var (body, problem) = await JsonBody.ReadAsync<SourceRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        if (await store.GetAsync(id, request.HttpContext.RequestAborted) is not { } current)
        {
            return NotFound(id);
        }
        var errors = new Errors();
        if (SourceValidation.CheckUpdate(body!, current, configuration.Limits, configuration.Scanning, errors) is not { } merged)
        {
            return errors.ToProblem();
        }
        try
        {
            return await store.UpdateAsync(id, body!, merged, request.HttpContext.RequestAborted) is { } view ? TypedResults.Ok(view) : NotFound(id);
        }
        catch (SourceRefusedException refused)
        {
            return Problems.Conflict(refused.Message);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, SourceStore store, HttpContext context) =>
        await store.DeleteAsync(id, context.RequestAborted) ? TypedResults.NoContent() : NotFound(id);

    /// <summary>Asks for a scan now: 202 with the source; its <c>lastRun</c> shows the scan once a worker has started it.</summary>
    private static async Task<Results<Accepted<ScanSourceView>, ProblemHttpResult>> ScanAsync(string id, SourceStore store, ClaimsPrincipal user, HttpContext context)
    {
        try
        {
            return await store.RequestScanAsync(id, ApiKeyUser.Name(user), context.RequestAborted) is { } view
                ? TypedResults.Accepted($"/api/v1/sources/{id}", view)
                : NotFound(id);
        }
        catch (SourceRefusedException refused)
        {
            return Problems.Conflict(refused.Message);
        }
    }

    private static async Task<Results<Ok<IReadOnlyList<ScanRunView>>, ValidationProblem, ProblemHttpResult>> RunsAsync(
        string id, HttpRequest request, SourceStore store, CloudConfiguration configuration)
    {
        var limit = configuration.Limits.DefaultPageSize;
        if (request.Query["limit"].ToString() is { Length: > 0 } text
            && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > configuration.Scanning.RunsKept))
        {
            return JsonBody.Invalid("limit", $"must be between 1 and {configuration.Scanning.RunsKept} (Scanning:RunsKept)");
        }
        return await store.RunsAsync(id, limit, request.HttpContext.RequestAborted) is { } runs ? TypedResults.Ok(runs) : NotFound(id);
    }

    /// <summary>
    /// Files the findings of a scan run elsewhere (<c>leaknode scan --cloud</c>): new tokens become leaks, known ones
    /// add this place to their leak. Each finding's secret is the token itself: it is sealed at once, as tokens of
    /// <c>POST /api/v1/leaks</c> are.
    /// </summary>
    private static async Task<Results<Ok<FindingsResult>, ValidationProblem, ProblemHttpResult>> FindingsAsync(
        HttpRequest request, FindingIngest ingest, CloudConfiguration configuration, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<FindingsRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Errors();
        if (SourceValidation.CheckFindings(body!, configuration.Limits, configuration.Scanning, errors) is not { } batch)
        {
            return errors.ToProblem();
        }
        try
        {
            return TypedResults.Ok(await ingest.IngestAsync(batch.Kind, batch.Url, batch.Findings, ApiKeyUser.Name(user), request.HttpContext.RequestAborted));
        }
        catch (Leaks.LeakRefusedException refused)
        {
            return Problems.Conflict(refused.Message);
        }
    }

    private static ProblemHttpResult NotFound(string id) => Problems.NotFound($"no source has id '{id}'");

    /// <summary>Registers sources, the findings filer and (when <c>Scanning:Enabled</c>) the scan worker.</summary>
    public static IServiceCollection AddSources(this IServiceCollection services, CloudConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(configuration.Scanning);
        services.AddSingleton<SourceStore>();
        services.AddSingleton<FindingIngest>();
        services.AddSingleton<SourceScanning>();
        if (configuration.Scanning.Enabled)
        {
            services.AddHostedService<ScanWorker>();
        }
        return services;
    }
}
