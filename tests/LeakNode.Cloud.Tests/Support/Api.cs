using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace LeakNode.Cloud.Tests.Support;

/// <summary>Small helpers over the REST API: requests as anonymous objects, answers as JSON.</summary>
public static class CloudApi
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(this HttpClient client, string path, object? body)
    {
        using var response = body is null ? await client.PostAsync(path, null, Ct) : await client.PostAsJsonAsync(path, body, Ct);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostRawAsync(this HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(path, content, Ct);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PatchJsonAsync(this HttpClient client, string path, object body)
    {
        using var response = await client.PatchAsJsonAsync(path, body, Ct);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        return (response.StatusCode, await ReadAsync(response));
    }

    /// <summary>Creates a leak and returns it; fails the test on any other answer than 201.</summary>
    public static async Task<JsonElement> CreateLeakAsync(this HttpClient client, string name, IEnumerable<string> tokens, int? risk = null, string? source = null)
    {
        var (status, body) = await client.PostJsonAsync("/api/v1/leaks", new { name, risk, tokens, source = source is null ? null : new { kind = source } });
        Assert.True(status == HttpStatusCode.Created, $"create answered {status}: {body}");
        return body;
    }

    public static string Id(this JsonElement leak) => leak.GetProperty("id").GetString()!;

    public static string Str(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        if (text.Length == 0)
        {
            return default;
        }
        try
        {
            return JsonSerializer.Deserialize<JsonElement>(text);
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(text);
        }
    }
}

/// <summary>Random test tokens: never real ones, each unique, of the shapes users paste.</summary>
public sealed class Tokens(int seed)
{
    private readonly Testing.TokenFactory _factory = new(seed);
    private readonly HashSet<string> _made = new(StringComparer.Ordinal);

    public string Next()
    {
        while (true)
        {
            var format = _factory.Formats[_factory.Random.Next(_factory.Formats.Count)];
            var token = format.Make();
            // Short generic ones could occur inside a longer one by chance; the plaintext scans look for substrings.
            if (token.Length >= 12 && _made.Add(token))
            {
                return token;
            }
        }
    }

    public string[] Next(int count) => [.. Enumerable.Range(0, count).Select(_ => Next())];

    public IReadOnlyCollection<string> All => _made;
}
