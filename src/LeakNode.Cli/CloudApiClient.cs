using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeakNode.Cli.Inventory;
using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Sources;
using LeakNode.Scanner;

namespace LeakNode.Cli;

/// <summary>
/// The cloud's REST API as the command line calls it: <c>Authorization: Bearer</c> with an API key, JSON both ways,
/// and every refusal turned into one line a person can act on (status, the problem's title and detail, and its
/// field errors). One instance a command run; add a method per endpoint a command needs.
/// </summary>
internal sealed class CloudApiClient : IDisposable
{
    /// <summary>The environment variable <c>--api-key</c> defaults to, so that the key need not sit in shell history or <c>ps</c>.</summary>
    public const string ApiKeyVariable = "LEAKNODE_API_KEY";

    /// <summary>The API's JSON: camelCase; fields left null are left out, as the API treats a missing field and null alike.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;

    /// <param name="cloud">The cloud's REST address (<c>Listen:Http</c>, or <c>Listen:PublicUrl</c> behind a proxy, path included).</param>
    public CloudApiClient(Uri cloud, string apiKey, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        // A base with a trailing slash, so that relative paths keep a proxy's prefix (https://host/leaknode/ + api/v1/…).
        Cloud = cloud.AbsoluteUri.EndsWith('/') ? cloud : new Uri(cloud.AbsoluteUri + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler);
        _http.BaseAddress = Cloud;
        // A large inventory is streamed; the request's cancellation, not a fixed timeout, ends a stuck call.
        _http.Timeout = Timeout.InfiniteTimeSpan;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public Uri Cloud { get; }

    /// <summary>Parses <c>--cloud</c>: an absolute http(s) URL. Returns null and a message otherwise.</summary>
    public static Uri? ParseUrl(string text, out string? problem)
    {
        problem = null;
        if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            return url;
        }
        problem = $"--cloud: '{text}' is not an http:// or https:// URL (the cloud's REST address, e.g. http://127.0.0.1:7070)";
        return null;
    }

    /// <summary>The <c>--cloud URL</c> and <c>--api-key KEY</c> options of every command that talks to the cloud.</summary>
    public static (Option<string?> Cloud, Option<string?> ApiKey) Options(bool required) =>
        (new Option<string?>("--cloud") { Description = "The cloud's REST address, e.g. http://127.0.0.1:7070.", Required = required },
         new Option<string?>("--api-key")
         {
             Description = $"An admin API key of the cloud. Default: the {ApiKeyVariable} environment variable, which keeps the key out of shell history.",
             DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiKeyVariable),
         });

    /// <summary>A client for <c>--cloud</c> and <c>--api-key</c>, or null and the problem with them.</summary>
    public static CloudApiClient? Connect(string cloud, string? apiKey, out string? problem)
    {
        if (ParseUrl(cloud, out problem) is not { } url)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(apiKey))
        {
            problem = $"--api-key KEY (or the {ApiKeyVariable} environment variable) is required with --cloud: an admin API key";
            return null;
        }
        return new CloudApiClient(url, apiKey.Trim());
    }

    /// <summary>
    /// <c>POST /api/v1/findings</c> (admin): a scan's findings, which the cloud files as leaks. The secrets travel to
    /// the cloud (it needs them to block the tokens) and are sealed there at once.
    /// </summary>
    public Task<FindingsResult> FileFindingsAsync(FindingsRequest request, CancellationToken cancellationToken) =>
        SendAsync<FindingsResult>(HttpMethod.Post, "api/v1/findings", request, cancellationToken);

    /// <summary><c>GET /api/v1/inventory/key</c> (admin): the inventory key, for digesting tokens offline.</summary>
    public Task<InventoryKeyView> GetInventoryKeyAsync(CancellationToken cancellationToken) =>
        SendAsync<InventoryKeyView>(HttpMethod.Get, "api/v1/inventory/key", null, cancellationToken);

    /// <summary><c>POST /api/v1/inventory</c> (admin): tokens or digests to add.</summary>
    public Task<InventoryAddResult> AddInventoryAsync(InventoryAddRequest request, CancellationToken cancellationToken) =>
        SendAsync<InventoryAddResult>(HttpMethod.Post, "api/v1/inventory", request, cancellationToken);

    /// <summary>
    /// <c>GET /api/v1/inventory/digests</c> (admin): the inventory key and every digest, as the watch list a scan
    /// takes (<see cref="ScanOptions.Inventory"/>); null when the inventory is empty.
    /// </summary>
    /// <exception cref="CloudApiException">The cloud refused, did not answer, or answered something else than an inventory.</exception>
    public async Task<InventoryWatchList?> GetInventoryAsync(CancellationToken cancellationToken)
    {
        var path = "api/v1/inventory/digests";
        using var response = await CallAsync(HttpMethod.Get, path, null, cancellationToken);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        try
        {
            var document = await JsonSerializer.DeserializeAsync<InventoryDocument>(body, Json, cancellationToken);
            return InventoryFiles.ToWatchList(document, key: null, $"{Cloud}{path}");
        }
        catch (Exception error) when (error is JsonException or InventoryFileException)
        {
            throw new CloudApiException($"the cloud at {Cloud} answered {path} with something else than an inventory: {error.Message}");
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await CallAsync(method, path, body, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new CloudApiException($"the cloud at {Cloud} answered {path} with an empty body");
        }
        catch (JsonException error)
        {
            throw new CloudApiException($"the cloud at {Cloud} answered {path} with something else than the API's JSON: {error.Message}");
        }
    }

    /// <summary>Sends a request and returns a successful response; anything else becomes a <see cref="CloudApiException"/>.</summary>
    private async Task<HttpResponseMessage> CallAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: Json);
        }
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException error)
        {
            throw new CloudApiException($"cannot reach the cloud at {Cloud}: {error.Message}");
        }
        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            throw new CloudApiException(await DescribeAsync(response, path, cancellationToken));
        }
    }

    /// <summary>One line from a refusal: <c>POST api/v1/inventory: 400 The request is not valid: keyId: …; digests[2].hmac: …</c>.</summary>
    private static async Task<string> DescribeAsync(HttpResponseMessage response, string path, CancellationToken cancellationToken)
    {
        var text = new StringBuilder($"{response.RequestMessage?.Method} {path}: the cloud answered {(int)response.StatusCode} {response.ReasonPhrase}");
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = problem.RootElement;
            if (root.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String)
            {
                text.Append(": ").Append(title.GetString());
            }
            if (root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                text.Append(": ").Append(detail.GetString());
            }
            if (root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
            {
                // The first few fields: a request of 10,000 bad digests would otherwise print 10,000 lines.
                var fields = errors.EnumerateObject().ToList();
                text.Append(": ").AppendJoin("; ", fields.Take(10).Select(f => $"{f.Name}: {string.Join(", ", f.Value.EnumerateArray().Select(m => m.GetString()))}"));
                if (fields.Count > 10)
                {
                    text.Append($"; and {fields.Count - 10} more");
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page, say): the status line says enough.
        }
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            text.Append($" (check --api-key or {ApiKeyVariable})");
        }
        return text.ToString();
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>The cloud refused a call or could not be reached; the message says which, for the user.</summary>
internal sealed class CloudApiException : Exception
{
    public CloudApiException(string message)
        : base(message)
    {
    }

    public CloudApiException()
    {
    }

    public CloudApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
