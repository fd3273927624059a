using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LeakNode.Cloud.Tests.Support;

namespace LeakNode.Cloud.Tests.Notifications;

/// <summary>What the notification tests share: a cloud whose worker retries in milliseconds, and helpers over the channels API.</summary>
internal static class NotificationTestKit
{
    public const string PublicUrl = "https://leaknode.example.test";

    /// <summary>Settings that make the worker fast: polls and backoff in milliseconds.</summary>
    public static Dictionary<string, string?> Fast(int maxAttempts = 8) => new()
    {
        ["Listen:PublicUrl"] = PublicUrl,
        ["Notifications:PollInterval"] = "00:00:00.050",
        ["Notifications:InitialBackoff"] = "00:00:00.050",
        ["Notifications:MaxBackoff"] = "00:00:00.200",
        ["Notifications:SendTimeout"] = "00:00:05",
        ["Notifications:ClaimLease"] = "00:00:10",
        ["Notifications:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public static Task<CloudHarness> StartAsync(int maxAttempts = 8) => CloudHarness.StartAsync(Fast(maxAttempts));

    /// <summary>Creates a channel and returns its id; fails the test on any other answer than 201.</summary>
    public static async Task<string> CreateChannelAsync(this HttpClient client, object body)
    {
        var (status, created) = await client.PostJsonAsync("/api/v1/integrations", body);
        Assert.True(status == HttpStatusCode.Created, $"create channel answered {status}: {created}");
        return created.Id();
    }

    public static object Webhook(string name, Uri url, string secret, string[]? events = null, string? minRisk = null, object? attemptRate = null) =>
        new { name, kind = "webhook", events, minRisk, attemptRate, settings = new { url = url.ToString(), secret } };

    /// <summary>The channel's delivery log, newest first.</summary>
    public static async Task<JsonElement[]> DeliveriesAsync(this HttpClient client, string channelId)
    {
        var (status, page) = await client.GetJsonAsync($"/api/v1/integrations/{channelId}/deliveries?limit=100");
        Assert.Equal(HttpStatusCode.OK, status);
        return [.. page.GetProperty("items").EnumerateArray()];
    }

    /// <summary>Waits until the channel's log holds a delivery that <paramref name="done"/> accepts, and returns it.</summary>
    public static async Task<JsonElement> WaitForDeliveryAsync(this HttpClient client, string channelId, Func<JsonElement, bool> done, string what) =>
        await Eventually.ValueAsync<JsonElement[]>(() => client.DeliveriesAsync(channelId)!, items => items.Any(done), what) is var items
            ? items.First(done)
            : default;

    public static string Signature(byte[] body, string secret) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Fails when any generated token appears in any of <paramref name="texts"/>.</summary>
    public static void AssertNoToken(Tokens tokens, IEnumerable<string> texts)
    {
        var all = texts.ToList();
        Assert.NotEmpty(all);
        foreach (var token in tokens.All)
        {
            Assert.DoesNotContain(all, t => t.Contains(token, StringComparison.Ordinal));
        }
    }
}
