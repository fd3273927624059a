using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Tests.Support;
using static LeakNode.Cloud.Tests.Inventory.InventoryTestKit;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>
/// The inventory takes plaintext and keeps digests only: no token given to it is in any table, log line or answer,
/// the sealed store included (unlike a leak's tokens, an inventory token is not even kept encrypted).
/// </summary>
public sealed class InventoryPlaintextTests
{
    [Fact]
    public async Task PostTokens_EveryTableLogAndAnswer_HoldsNoPlaintext()
    {
        var tokens = new Tokens(seed: 8103);
        await using var cloud = await CloudHarness.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });
        using var analyst = await cloud.ClientWithRoleAsync("analyst");

        var batch = tokens.Next(8);
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = batch, label = "issued" });
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { batch[0], batch[1], tokens.Next() } });
        // Refused requests: a token beside a bad one, a token with a control character, a token with digests.
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { tokens.Next(), "short" } });
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = new[] { tokens.Next() + "\n" } });
        await cloud.Admin.PostRawAsync(Endpoint, "{\"tokens\":[\"" + tokens.Next() + "\"],\"digests\":[]}");
        await analyst.PostJsonAsync(Endpoint, new { tokens = new[] { tokens.Next() } });
        foreach (var path in new[] { Endpoint, Endpoint + "?limit=2", Endpoint + "/key", Endpoint + "/digests", "/openapi/v1.json" })
        {
            await cloud.Admin.GetJsonAsync(path);
        }
        await analyst.GetJsonAsync(Endpoint);
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        using (await cloud.Admin.DeleteAsync($"{Endpoint}/{page.GetProperty("items")[0].Str("id")}", CloudApi.Ct))
        {
        }
        Assert.Equal(8, (await cloud.Service<InventoryStore>().LoadWatchListAsync(CloudApi.Ct))?.TokenCount);
        var fingerprint = page.GetProperty("items")[1].Str("fingerprint");
        await cloud.Cloud.StopAsync(CloudApi.Ct);

        var haystacks = await Plaintext.HaystacksAsync(cloud);
        // The stored digests are where the search looks: their fingerprints are there, their plaintext is not.
        Assert.Contains(haystacks, h => h.Key is "cloud.db" or "cloud.db-wal" or "database" && h.Value.Contains(fingerprint, StringComparison.Ordinal));
        Assert.Contains(cloud.Logs, l => l.Contains("Inventory: 8 tokens added", StringComparison.Ordinal));
        Assert.Equal(13, tokens.All.Count);
        Plaintext.AssertAbsent(tokens.All, haystacks);
    }
}
