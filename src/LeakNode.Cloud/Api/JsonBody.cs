using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LeakNode.Cloud.Api;

/// <summary>
/// Reads request bodies strictly (unknown fields refused) and turns every way a body can be wrong into a
/// validation problem naming the field, instead of the bare 400 the framework's binder answers.
/// </summary>
internal static partial class JsonBody
{
    /// <summary>The API's JSON: camelCase, unknown members refused (a misspelt field must not be silently ignored).</summary>
    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        return options;
    }

    /// <summary>The body as <typeparamref name="T"/>, or the problem with it. An empty body is null when <paramref name="optional"/>.</summary>
    public static async Task<(T? Value, ValidationProblem? Problem)> ReadAsync<T>(HttpRequest request, bool optional = false)
        where T : class
    {
        var canHaveBody = request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (request.ContentLength == 0 || !canHaveBody)
        {
            return optional ? (null, null) : (null, Invalid("body", "a JSON body is required"));
        }
        if (!request.HasJsonContentType())
        {
            return (null, Invalid("body", "must be JSON (Content-Type: application/json)"));
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted);
            return value is null
                ? (optional ? (null, null) : (null, Invalid("body", "a JSON object is required")))
                : (value, null);
        }
        catch (JsonException error)
        {
            // The exception's message can hold type names but never the value; still, only the path is reported.
            if (error.Message is { } message && UnmappedMember().Match(message) is { Success: true } unmapped)
            {
                return (null, Invalid(unmapped.Groups[1].Value, "unknown field"));
            }
            var path = error.Path is null or "$" ? "body" : error.Path.TrimStart('$', '.');
            return (null, Invalid(path, error.Path is null ? "is not valid JSON" : "has the wrong type or format"));
        }
    }

    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is not valid");

    public static ValidationProblem Invalid(Dictionary<string, List<string>> errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "The request is not valid");

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnmappedMember();
}

/// <summary>Collects validation errors per field, every one of them, not just the first.</summary>
internal sealed class Errors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    /// <summary>The messages by field, as the API's problem details list them (the console shows them beside each field).</summary>
    public IReadOnlyDictionary<string, List<string>> Fields => _errors;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }
        list.Add(message);
    }

    public ValidationProblem ToProblem() => JsonBody.Invalid(_errors);

    /// <summary>The errors by field, for callers that are not HTTP endpoints (the console's pages).</summary>
    public IReadOnlyDictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}
