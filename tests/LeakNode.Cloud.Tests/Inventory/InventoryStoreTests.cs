using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Scanner;
using LeakNode.Scanner.Detection;
using static LeakNode.Cloud.Tests.Inventory.InventoryTestKit;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>
/// <see cref="InventoryStore.LoadWatchListAsync"/>, the call a scan makes: the watch list built from the stored digests
/// finds an inventory token in a document, as kind <c>inventory</c>, named by the token's id.
/// </summary>
public sealed class InventoryStoreTests
{
    private readonly Tokens _tokens = new(seed: 8102);

    [Fact]
    public async Task LoadWatchList_EmptyInventory_NullAndNoKeyMade()
    {
        await using var cloud = await CloudHarness.StartAsync();

        var list = await cloud.Service<InventoryStore>().LoadWatchListAsync(CloudApi.Ct);

        Assert.Null(list);
        Assert.DoesNotContain(cloud.Logs, l => l.Contains("inventory digest key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoadWatchList_FindsAnInventoryTokenInAText_AndNotANearMiss()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(20);
        var (keyId, key) = await cloud.KeyAsync();
        // Half in plaintext, half as digests made offline: both reach the watch list alike.
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = tokens[..10] });
        await cloud.Admin.PostRawAsync(Endpoint, DigestsBody(keyId, [.. tokens[10..].Select(t => DigestJson(key, t))]));
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint + "?limit=50");
        var leaked = tokens[3];
        var offline = tokens[15];
        var nearMiss = tokens[7][..^1] + (tokens[7][^1] == 'x' ? 'y' : 'x');
        using var folder = new TempFolder();
        folder.Write("config/app.env", $"# deploy\nAPI_TOKEN={leaked}\nOTHER={nearMiss}\n");
        folder.Write("notes.md", $"curl -H 'Authorization: Bearer {offline}' https://api.example.test/\n");

        var list = await cloud.Service<InventoryStore>().LoadWatchListAsync(CloudApi.Ct);
        Assert.NotNull(list);
        Assert.Equal(20, list.TokenCount);
        var result = await new SecretScanner(new ScanOptions { Inventory = list, Detectors = new DetectorSet([]) }).ScanAsync(folder.Path, CloudApi.Ct);

        Assert.Equal(2, result.Findings.Count);
        var inEnv = Assert.Single(result.Findings, f => f.Path == "config/app.env");
        Assert.Equal("inventory", inEnv.Kind);
        Assert.Equal(Severity.Critical, inEnv.Severity);
        Assert.Equal((2, 11), (inEnv.StartLine, inEnv.StartColumn));
        Assert.Equal(leaked, inEnv.Secret);
        var fingerprint = new Matching.Digests.TokenDigester(key).Digest("x", leaked).Fingerprint;
        var stored = Assert.Single(page.GetProperty("items").EnumerateArray(), i => i.Str("fingerprint") == fingerprint);
        Assert.Equal(stored.Str("id"), inEnv.TokenId);
        Assert.Equal(offline, Assert.Single(result.Findings, f => f.Path == "notes.md").Secret);
    }

    [Fact]
    public async Task LoadWatchList_AfterDelete_OnlyTheOthersAreWatched()
    {
        await using var cloud = await CloudHarness.StartAsync();
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens = _tokens.Next(2) });
        var (_, page) = await cloud.Admin.GetJsonAsync(Endpoint);
        var removed = page.GetProperty("items")[0].Str("id");

        using (await cloud.Admin.DeleteAsync($"{Endpoint}/{removed}", CloudApi.Ct))
        {
        }
        var list = await cloud.Service<InventoryStore>().LoadWatchListAsync(CloudApi.Ct);

        Assert.Equal(1, list?.TokenCount);
    }
}
