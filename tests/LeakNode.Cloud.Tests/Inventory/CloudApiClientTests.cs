using LeakNode.Cli;
using LeakNode.Cloud.Inventory;
using LeakNode.Cloud.Tests.Support;
using LeakNode.Scanner;
using LeakNode.Scanner.Detection;
using static LeakNode.Cloud.Tests.Inventory.InventoryTestKit;
using LeakNode.Scanner.Tests.Support;

namespace LeakNode.Cloud.Tests.Inventory;

/// <summary>The CLI's <see cref="CloudApiClient"/> against a real cloud: what <c>leaknode scan --cloud</c> will build on.</summary>
public sealed class CloudApiClientTests
{
    private readonly Tokens _tokens = new(seed: 8106);

    [Fact]
    public async Task GetInventory_EmptyInventory_Null()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var client = new CloudApiClient(cloud.Cloud.HttpUrl, cloud.AdminKey);

        Assert.Null(await client.GetInventoryAsync(CloudApi.Ct));
    }

    [Fact]
    public async Task GetInventory_WatchListFindsTheInventorysTokens()
    {
        await using var cloud = await CloudHarness.StartAsync();
        var tokens = _tokens.Next(5);
        await cloud.Admin.PostJsonAsync(Endpoint, new { tokens });
        using var client = new CloudApiClient(cloud.Cloud.HttpUrl, cloud.AdminKey);
        using var folder = new TempFolder();
        folder.Write("deploy.sh", $"export TOKEN={tokens[4]}\n");

        var list = await client.GetInventoryAsync(CloudApi.Ct);
        var result = await new SecretScanner(new ScanOptions { Inventory = list, Detectors = new DetectorSet([]) }).ScanAsync(folder.Path, CloudApi.Ct);

        Assert.Equal(5, list?.TokenCount);
        var finding = Assert.Single(result.Findings);
        Assert.Equal("inventory", finding.Kind);
        Assert.StartsWith("inv_", finding.TokenId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddInventory_DigestsOfTheKey_Counted_AndARefusalIsOneLineWithItsFields()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var client = new CloudApiClient(cloud.Cloud.HttpUrl, cloud.AdminKey);
        var key = await client.GetInventoryKeyAsync(CloudApi.Ct);
        var digest = new Matching.Digests.TokenDigester(Matching.Digests.DigestKey.FromBytes(Convert.FromBase64String(key.Key))).Digest("x", _tokens.Next());
        var good = new InventoryDigestRequest(digest.Length, digest.SpanStart, digest.Windows, digest.Hmac, digest.Preview);

        var added = await client.AddInventoryAsync(new InventoryAddRequest(Digests: [good], KeyId: key.KeyId), CloudApi.Ct);
        var refused = await Assert.ThrowsAsync<CloudApiException>(() => client.AddInventoryAsync(
            new InventoryAddRequest(Digests: [good with { Hmac = [1, 2, 3] }, good with { Windows = [1] }], KeyId: "0000000000000000"), CloudApi.Ct));

        Assert.Equal(new InventoryAddResult(1, 0, 1), added);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.Contains("400", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"the inventory key is '{key.KeyId}'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("digests[0].hmac: must be the first 16 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("digests[1].windows", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetInventoryKey_AnalystKey_RefusedSayingAnAdminKeyIsNeeded()
    {
        await using var cloud = await CloudHarness.StartAsync();
        using var analyst = await cloud.ClientWithRoleAsync("analyst");
        var analystKey = analyst.DefaultRequestHeaders.Authorization!.Parameter!;
        using var client = new CloudApiClient(cloud.Cloud.HttpUrl, analystKey);

        var refused = await Assert.ThrowsAsync<CloudApiException>(() => client.GetInventoryKeyAsync(CloudApi.Ct));
        var digests = await Assert.ThrowsAsync<CloudApiException>(() => client.GetInventoryAsync(CloudApi.Ct));

        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        Assert.Contains("need an admin key", refused.Message, StringComparison.Ordinal);
        Assert.Contains("403", digests.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_NoCloudThere_SaysItCannotReachIt()
    {
        using var client = new CloudApiClient(new Uri($"http://127.0.0.1:{Testing.Processes.FreePort.Next()}"), "lnk_x");

        var error = await Assert.ThrowsAsync<CloudApiException>(() => client.GetInventoryKeyAsync(CloudApi.Ct));

        Assert.StartsWith("cannot reach the cloud at http://127.0.0.1:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:7070", "http://127.0.0.1:7070/")]
    [InlineData("https://example.test/leaknode", "https://example.test/leaknode/")]
    [InlineData("https://example.test/leaknode/", "https://example.test/leaknode/")]
    public void Client_BehindAProxyPrefix_KeepsThePrefix(string cloud, string expected)
    {
        using var client = new CloudApiClient(new Uri(cloud), "lnk_x");

        Assert.Equal(expected, client.Cloud.ToString());
    }
}
