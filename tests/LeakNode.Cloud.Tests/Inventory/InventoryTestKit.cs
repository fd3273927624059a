using System.Text.Json;
using System.Text.Json.Nodes;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Matching.Digests;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>What the inventory tests share: the inventory key as a client sees it, and digests made with it as the offline helper makes them.</summary>
internal static class InventoryTestKit
{
    public const string Endpoint = "/api/v1/inventory";

    /// <summary><c>GET /api/v1/inventory/key</c> as the admin: the key id and the key.</summary>
    public static async Task<(string KeyId, DigestKey Key)> KeyAsync(this CloudHarness cloud)
    {
        var (status, body) = await cloud.Admin.GetJsonAsync(Endpoint + "/key");
        Assert.True(status == System.Net.HttpStatusCode.OK, $"GET key answered {status}: {body}");
        return (body.Str("keyId"), DigestKey.FromBytes(Convert.FromBase64String(body.Str("key"))));
    }

    /// <summary>A digest as JSON, in the shape <c>POST /api/v1/inventory</c> takes (what <c>leaknode inventory digest</c> writes).</summary>
    public static JsonObject DigestJson(DigestKey key, string token)
    {
        var digest = new TokenDigester(key).Digest("x", token);
        return new JsonObject
        {
            ["length"] = digest.Length,
            ["spanStart"] = digest.SpanStart,
            ["windows"] = JsonSerializer.SerializeToNode(digest.Windows),
            ["hmac"] = Convert.ToBase64String(digest.Hmac),
            ["preview"] = digest.Preview,
        };
    }

    /// <summary>The body that adds <paramref name="digests"/> made with the key <paramref name="keyId"/>.</summary>
    public static string DigestsBody(string? keyId, params JsonNode?[] digests)
    {
        var body = new JsonObject { ["digests"] = new JsonArray(digests) };
        if (keyId is not null)
        {
            body["keyId"] = keyId;
        }
        return body.ToJsonString();
    }

    /// <summary>The inventory's size, from the list's total.</summary>
    public static async Task<long> InventoryTotalAsync(this CloudHarness cloud)
    {
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        return page.GetProperty("total").GetInt64();
    }

    public static void AssertCounts(JsonElement result, int added, int skipped, long total)
    {
        Assert.Equal(added, result.GetProperty("added").GetInt32());
        Assert.Equal(skipped, result.GetProperty("skipped").GetInt32());
        Assert.Equal(total, result.GetProperty("total").GetInt64());
    }

    /// <summary>The messages a validation problem has for <paramref name="field"/>, joined; fails when the field has none.</summary>
    public static string Errors(JsonElement problem, string field)
    {
        if (!problem.TryGetProperty("errors", out var errors) || !errors.TryGetProperty(field, out var messages))
        {
            Assert.Fail($"no error for {field}: {problem}");
            return "";
        }
        return string.Join(" | ", messages.EnumerateArray().Select(m => m.GetString()));
    }
}
