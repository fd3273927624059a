using System.Globalization;
using System.Text;
using LeakNode.Cloud.Api;
using LeakNode.Cloud.Configuration;
using LeakNode.Cloud.Leaks;
using LeakNode.Cloud.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace LeakNode.Cloud.Attacks;

/// <summary><c>GET /api/v1/attacks</c> (CONTRACT.md): the attempts nodes reported, newest first.</summary>
internal static class AttacksApi
{
    public static readonly IReadOnlyList<string> Types = ["vpatch"];
    public static readonly IReadOnlyList<string> Actions = ["blocked", "monitored"];

    public static RouteGroupBuilder MapAttacksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/attacks").WithTags("Attacks");
        group.MapGet("", ListAsync)
            .WithSummary("Attack events nodes reported, newest first")
            .WithDescription(
                "Filters: type (vpatch), leakId, action (blocked|monitored), from (inclusive) and to (exclusive) as ISO 8601 times. "
                + "Pages by keyset: pass nextCursor back as cursor (null on the last page); a page costs the same at any depth. "
                + "total is exact, for the filters and not the cursor, at any number of stored events: it is summed from counts "
                + "the cloud keeps per day and hour as events arrive, plus a count of the events in the part-hours at the edges "
                + "of from/to, so it does not grow with the events stored. Events older than Storage:Attacks:RetentionDays are removed.");
        return group;
    }

    private static async Task<Results<Ok<Page<AttackView>>, ValidationProblem>> ListAsync(HttpRequest request, AttackStore attacks, CloudConfiguration configuration)
    {
        var query = request.Query;
        var errors = new Errors();
        var type = OneOf(query["type"].ToString(), "type", Types, errors);
        var action = OneOf(query["action"].ToString(), "action", Actions, errors);
        var leakId = query["leakId"].ToString();
        var from = Time(query["from"].ToString(), "from", errors);
        var to = Time(query["to"].ToString(), "to", errors);
        var limit = LeakValidation.ReadLimit(query, configuration.Limits, errors);
        (long, string)? after = null;
        var cursor = query["cursor"].ToString();
        if (cursor.Length > 0)
        {
            after = ParseCursor(cursor);
            if (after is null)
            {
                errors.Add("cursor", "not a cursor of this list: pass nextCursor back unchanged");
            }
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var (items, total, next) = await attacks.ListAsync(
            new AttackFilter(type, leakId.Length == 0 ? null : leakId, action, from, to), after, limit, request.HttpContext.RequestAborted);
        return TypedResults.Ok(new Page<AttackView>(items, total, next is { } n ? Cursor(n) : null));
    }

    private static string? OneOf(string value, string field, IReadOnlyList<string> allowed, Errors errors)
    {
        if (value.Length == 0)
        {
            return null;
        }
        if (!allowed.Contains(value))
        {
            errors.Add(field, $"must be one of {string.Join(", ", allowed)}");
        }
        return value;
    }

    private static DateTimeOffset? Time(string value, string field, Errors errors)
    {
        if (value.Length == 0)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }
        errors.Add(field, "must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z");
        return null;
    }

    internal static string Cursor((long Time, string Id) key) =>
        Ids.Base64Url(Encoding.UTF8.GetBytes(key.Time.ToString(CultureInfo.InvariantCulture) + ":" + key.Id));

    private static (long, string)? ParseCursor(string cursor)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Ids.FromBase64Url(cursor));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var time)
                ? (time, text[(colon + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
