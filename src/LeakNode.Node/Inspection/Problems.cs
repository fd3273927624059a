using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace LeakNode.Node.Inspection;

/// <summary>
/// The node's own answers, as RFC 9457 problem details. None of them ever contains a token: a blocked request is
/// named by the event that records it.
/// </summary>
internal static class Problems
{
    public static Task LeakedCredential(HttpContext context, string? eventId) => Write(context, new Problem(
        "urn:leaknode:problem:leaked-credential",
        "Leaked credential",
        StatusCodes.Status403Forbidden,
        "This request carries an API credential that has leaked and is blocked. Replace it with a new credential.",
        eventId));

    public static Task BodyTooLarge(HttpContext context, long limit) => Write(context, new Problem(
        "urn:leaknode:problem:body-too-large",
        "Request body too large to inspect",
        StatusCodes.Status413PayloadTooLarge,
        $"The request body (or its decoded form) is larger than the {limit} bytes this proxy inspects.",
        null));

    public static Task NotReady(HttpContext context) => Write(context, new Problem(
        "urn:leaknode:problem:not-ready",
        "Not ready",
        StatusCodes.Status503ServiceUnavailable,
        "This proxy has not loaded its rules yet. Retry shortly.",
        null));

    private static Task Write(HttpContext context, Problem problem)
    {
        context.Response.StatusCode = problem.Status;
        context.Response.ContentType = "application/problem+json";
        if (problem.Status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "5";
        }
        return JsonSerializer.SerializeAsync(context.Response.Body, problem with { TraceId = context.TraceIdentifier }, ProblemJsonContext.Default.Problem, context.RequestAborted);
    }

    internal sealed record Problem(string Type, string Title, int Status, string Detail, string? EventId, string? TraceId = null);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Problems.Problem))]
internal sealed partial class ProblemJsonContext : JsonSerializerContext;
