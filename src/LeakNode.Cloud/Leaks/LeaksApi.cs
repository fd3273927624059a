using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Json;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Auth;
using LeakNode.Cloud.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace LeakNode.Cloud.Leaks;

/// <summary>The leaks REST API (CONTRACT.md): create, read, list, stats, export, edit, and the lifecycle actions.</summary>
internal static class LeaksApi
{
    public static RouteGroupBuilder MapLeaksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/leaks").WithTags("Leaks");
        group.MapPost("", CreateAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<CreateLeakRequest>("application/json");
        group.MapGet("", ListAsync);
        group.MapGet("/stats", StatsAsync);
        group.MapGet("/export", ExportAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapPost("/{id}/tokens", AddTokensAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<AddTokensRequest>("application/json");
        group.MapPatch("/{id}", EditAsync).RequireAuthorization(AuthPolicies.Admin).Accepts<UpdateLeakRequest>("application/json");
        foreach (var action in Enum.GetValues<LeakAction>())
        {
            group.MapPost($"/{{id}}/{LeakLifecycle.Name(action)}", (string id, HttpRequest request, [AsParameters] LeakApiServices services, ClaimsPrincipal user) =>
                    TransitionAsync(id, action, request, services, user))
                .RequireAuthorization(AuthPolicies.Admin)
                .Accepts<LifecycleRequest>("application/json");
        }
        return group;
    }

    private static async Task<Results<Created<LeakView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, [AsParameters] LeakApiServices services, ClaimsPrincipal user)
    {
        var (body, problem) = await JsonBody.ReadAsync<CreateLeakRequest>(request);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Errors();
        var leak = LeakValidation.Check(body!, services.Configuration.Limits, errors);
        if (leak is null)
        {
            return errors.ToProblem();
        }
        try
        {
            var created = await services.Store.CreateAsync(leak, ApiKeyUser.Name(user), request.HttpContext.RequestAborted);
            return TypedResults.Created($"/api/v1/leaks/{created.Id}", created);
        }
        catch (LeakRefusedException refused)
        {
            return Refused(refused);
        }
    }

    private static async Task<Results<Ok<Page<LeakView>>, ValidationProblem>> ListAsync(HttpRequest request, [AsParameters] LeakApiServices services)
    {
        var errors = new Errors();
        var filter = LeakValidation.ReadFilter(request.Query, services.Store.FingerprintOf, errors);
        var (sort, after, limit) = LeakValidation.ReadPaging(request.Query, services.Configuration.Limits, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await services.Store.ListAsync(filter, sort, after, limit, request.HttpContext.RequestAborted));
    }

    private static async Task<Results<Ok<LeakStats>, ValidationProblem>> StatsAsync(HttpRequest request, [AsParameters] LeakApiServices services)
    {
        var errors = new Errors();
        var filter = LeakValidation.ReadFilter(request.Query, services.Store.FingerprintOf, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return TypedResults.Ok(await services.Store.StatsAsync(filter, request.HttpContext.RequestAborted));
    }

    /// <summary>The leaks a filter selects as a file: no plaintext token, only ids, previews and fingerprints.</summary>
    private static async Task<Results<FileContentHttpResult, ValidationProblem>> ExportAsync(HttpRequest request, [AsParameters] LeakApiServices services)
    {
        var errors = new Errors();
        var filter = LeakValidation.ReadFilter(request.Query, services.Store.FingerprintOf, errors);
        var sortName = request.Query["sort"].ToString();
        if (!LeakSort.All.TryGetValue(sortName.Length == 0 ? LeakSort.Default : sortName, out var sort))
        {
            errors.Add("sort", $"must be one of {string.Join(", ", LeakSort.All.Keys)}");
        }
        var format = request.Query["format"].ToString();
        if (format.Length == 0)
        {
            format = "json";
        }
        if (format is not ("csv" or "json"))
        {
            errors.Add("format", "must be csv or json");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var leaks = await services.Store.ExportAsync(filter, sort!, request.HttpContext.RequestAborted);
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return format == "csv"
            ? TypedResults.File(LeakCsv.Write(leaks), "text/csv; charset=utf-8", $"leaks-{stamp}.csv")
            : TypedResults.File(JsonSerializer.SerializeToUtf8Bytes(leaks, JsonBody.Options), "application/json", $"leaks-{stamp}.json");
    }

    private static async Task<Results<Ok<LeakView>, ProblemHttpResult>> GetAsync(string id, HttpContext context, [AsParameters] LeakApiServices services)
    {
        var leak = await services.Store.GetAsync(id, context.RequestAborted);
        return leak is null ? Problems.NotFound($"no leak has id '{id}'") : TypedResults.Ok(leak);
    }

    private static Task<Results<Ok<LeakView>, ValidationProblem, ProblemHttpResult>> EditAsync(
        string id, HttpRequest request, [AsParameters] LeakApiServices services, ClaimsPrincipal user) =>
        ChangeAsync<UpdateLeakRequest, LeakEdit?>(
            request, optionalBody: false,
            (body, errors) => LeakValidation.Check(body!, services.Configuration.Limits, errors),
            (edit, ct) => services.Store.EditAsync(id, edit!, ApiKeyUser.Name(user), ct));

    private static Task<Results<Ok<LeakView>, ValidationProblem, ProblemHttpResult>> AddTokensAsync(
        string id, HttpRequest request, [AsParameters] LeakApiServices services, ClaimsPrincipal user) =>
        ChangeAsync<AddTokensRequest, (List<string> Tokens, string? Comment)>(
            request, optionalBody: false,
            (body, errors) => LeakValidation.Check(body!, services.Configuration.Limits, errors),
            (add, ct) => services.Store.AddTokensAsync(id, add.Tokens, add.Comment, ApiKeyUser.Name(user), ct));

    private static Task<Results<Ok<LeakView>, ValidationProblem, ProblemHttpResult>> TransitionAsync(
        string id, LeakAction action, HttpRequest request, LeakApiServices services, ClaimsPrincipal user) =>
        ChangeAsync<LifecycleRequest, string?>(
            request, optionalBody: true,
            (body, errors) => LeakValidation.CheckComment(body, services.Configuration.Limits, errors),
            (comment, ct) => services.Store.TransitionAsync(id, action, comment, ApiKeyUser.Name(user), ct));

    /// <summary>A change to one leak: read the body, check it (every error at once), apply it, map a refusal to 404 or 409.</summary>
    private static async Task<Results<Ok<LeakView>, ValidationProblem, ProblemHttpResult>> ChangeAsync<TBody, TChange>(
        HttpRequest request, bool optionalBody, Func<TBody?, Errors, TChange> check, Func<TChange, CancellationToken, Task<LeakView>> apply)
        where TBody : class
    {
        var (body, problem) = await JsonBody.ReadAsync<TBody>(request, optionalBody);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Errors();
        var change = check(body, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        try
        {
            return TypedResults.Ok(await apply(change, request.HttpContext.RequestAborted));
        }
        catch (LeakRefusedException refused)
        {
            return Refused(refused);
        }
    }

    private static ProblemHttpResult Refused(LeakRefusedException refused) =>
        refused.NotFound
            ? Problems.NotFound(refused.Message)
            : Problems.Conflict(refused.Message, refused.Conflicts.Count == 0 ? null : new Dictionary<string, object?> { ["conflictingLeaks"] = refused.Conflicts });
}

/// <summary>What the leak endpoints need, resolved per request.</summary>
internal sealed record LeakApiServices(LeakStore Store, CloudConfiguration Configuration);

/// <summary>Leaks as CSV: one row a leak, tokens as their fingerprints.</summary>
internal static class LeakCsv
{
    public static byte[] Write(IReadOnlyList<LeakView> leaks)
    {
        var csv = new StringBuilder("id,name,status,remediation,riskScore,riskLevel,tokenCount,tokenFingerprints,tokenKinds,sourceKinds,sourceUrls,createdAt,updatedAt\r\n");
        foreach (var leak in leaks)
        {
            string[] fields =
            [
                leak.Id, leak.Name, leak.Status, leak.Remediation, leak.Risk.Score.ToString(CultureInfo.InvariantCulture), leak.Risk.Level,
                leak.TokenCount.ToString(CultureInfo.InvariantCulture),
                string.Join(' ', leak.Tokens.Select(t => t.Fingerprint)),
                string.Join(' ', leak.Tokens.Select(t => t.Kind).Distinct()),
                string.Join(' ', leak.Sources.Select(s => s.Kind).Distinct()),
                string.Join(' ', leak.Sources.Select(s => s.Url).Where(u => u is not null)),
                leak.CreatedAt.ToString("O", CultureInfo.InvariantCulture), leak.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
            ];
            csv.AppendJoin(',', fields.Select(Field)).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(csv.ToString());
    }

    // RFC 4180 quoting, and a leading quote on cells a spreadsheet would run as a formula (CSV injection).
    private static string Field(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
